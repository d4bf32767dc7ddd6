package org.esmp.load.net;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.LongAdder;
import java.util.List;

/**
 * The {@code error} frames a scenario's connections received, by code, with the first text of each
 * code, and the connections the server closed. Thread-safe: every reader thread records here.
 */
public final class ErrorTally {

  private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();
  private final Map<String, String> firstText = new ConcurrentHashMap<>();
  private final ConcurrentLinkedQueue<String> closed = new ConcurrentLinkedQueue<>();

  /** Counts one {@code error} frame. */
  public void record(String code, String text) {
    String key = code == null ? "(no code)" : code;
    counts.computeIfAbsent(key, k -> new LongAdder()).increment();
    if (text != null) {
      firstText.putIfAbsent(key, text);
    }
  }

  /** Notes a connection closed by the server (or failed) while in use. */
  public void recordClosed(String reason) {
    closed.add(reason);
  }

  /** Error frames by code, sorted by code. */
  public Map<String, Long> counts() {
    Map<String, Long> out = new TreeMap<>();
    counts.forEach((code, n) -> out.put(code, n.sum()));
    return out;
  }

  /** The first text the server gave with {@code code}, or null. */
  public String firstText(String code) {
    return firstText.get(code);
  }

  /** Why connections closed while in use, in order. */
  public List<String> closedConnections() {
    return List.copyOf(closed);
  }

  /** The counts and closed connections at one moment, to report what came after it. */
  public record Snapshot(Map<String, Long> counts, int closed) {}

  public Snapshot snapshot() {
    return new Snapshot(counts(), closed.size());
  }

  /** Error frames by code since {@code before}; codes with none left out. */
  public Map<String, Long> countsSince(Snapshot before) {
    Map<String, Long> out = new TreeMap<>();
    counts().forEach((code, n) -> {
      long since = n - before.counts().getOrDefault(code, 0L);
      if (since > 0) {
        out.put(code, since);
      }
    });
    return out;
  }

  /** Connections closed since {@code before}. */
  public List<String> closedSince(Snapshot before) {
    List<String> all = closedConnections();
    return all.subList(Math.min(before.closed(), all.size()), all.size());
  }

  public long total() {
    return counts.values().stream().mapToLong(LongAdder::sum).sum();
  }

  public boolean rateLimited() {
    return counts.containsKey("rate_limited");
  }
}
