package org.esmp.server.net;

import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts the open connections, in total and per remote IP address, against {@code max_connections}
 * and {@code max_connections_per_ip} (ESMP/1 section 3). One instance is shared by every event loop
 * of a server; its methods are thread-safe. Loopback counts like any other address.
 */
final class ConnectionLimits {

  private final int maxTotal;
  private final int maxPerIp;
  private final AtomicInteger total = new AtomicInteger();
  /** Open connections per address; an address with none has no entry, so the map stays small. */
  private final ConcurrentHashMap<InetAddress, Integer> perIp = new ConcurrentHashMap<>();

  ConnectionLimits(int maxTotal, int maxPerIp) {
    this.maxTotal = maxTotal;
    this.maxPerIp = maxPerIp;
  }

  /** Why a connection was refused, for its one {@code error} line. */
  enum Refusal {
    TOTAL, PER_IP
  }

  /**
   * Takes a slot for a new connection from {@code ip}; each slot taken is given back once with
   * {@link #release}.
   *
   * @return null when the connection may stay, else the limit it is over (no slot was taken)
   */
  Refusal acquire(InetAddress ip) {
    if (total.incrementAndGet() > maxTotal) {
      total.decrementAndGet();
      return Refusal.TOTAL;
    }
    boolean[] over = {false};
    perIp.compute(ip, (key, open) -> {
      int now = open == null ? 0 : open;
      if (now >= maxPerIp) {
        over[0] = true;
        return open;
      }
      return now + 1;
    });
    if (over[0]) {
      total.decrementAndGet();
      return Refusal.PER_IP;
    }
    return null;
  }

  /** Gives back the slot a connection from {@code ip} took. */
  void release(InetAddress ip) {
    perIp.computeIfPresent(ip, (key, open) -> open == 1 ? null : open - 1);
    total.decrementAndGet();
  }

  int maxTotal() {
    return maxTotal;
  }

  int maxPerIp() {
    return maxPerIp;
  }

  /** Open connections, in total (for tests and metrics). */
  int open() {
    return total.get();
  }
}
