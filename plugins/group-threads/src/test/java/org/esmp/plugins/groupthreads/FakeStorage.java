package org.esmp.plugins.groupthreads;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.esmp.api.Address;
import org.esmp.api.Ed25519Key;
import org.esmp.api.MailboxEntry;
import org.esmp.api.MessageId;
import org.esmp.api.Storage;
import org.esmp.api.StorageChange;
import org.esmp.api.json.JsonObject;

/**
 * An in-memory {@link Storage} that keeps the contract the plugin relies on: each change applied
 * atomically (deletes, then puts, appends with the next cursor of their address), reads see only
 * applied changes, and commit stages complete on one "storage thread", in commit order. A commit
 * can be made to fail, applying nothing.
 */
final class FakeStorage implements Storage {

  private final ExecutorService commitThread = Executors.newSingleThreadExecutor(task -> {
    Thread thread = new Thread(task, "fake-storage-commit");
    thread.setDaemon(true);
    return thread;
  });
  private final Map<Address, List<Ed25519Key>> keys = new HashMap<>();
  private final Map<MessageId, JsonObject> accepted = new HashMap<>();
  private final Map<Address, List<MailboxEntry>> mailboxes = new HashMap<>();
  private final Map<String, NavigableMap<String, byte[]>> spaces = new HashMap<>();
  private final AtomicInteger failing = new AtomicInteger();
  private int commits;

  /** Creates {@code address} with a key made of {@code seed}. */
  synchronized void register(Address address, int seed) {
    byte[] raw = new byte[Ed25519Key.LENGTH];
    raw[0] = (byte) seed;
    raw[1] = (byte) (seed >> 8);
    keys.computeIfAbsent(address, a -> new ArrayList<>()).add(Ed25519Key.of(raw));
  }

  /** The next {@code n} commits fail and apply nothing. */
  void failNextCommits(int n) {
    failing.set(n);
  }

  /** Every entry of {@code address}'s mailbox, oldest first. */
  synchronized List<MailboxEntry> mailbox(Address address) {
    return List.copyOf(mailboxes.getOrDefault(address, List.of()));
  }

  /** Every key of {@code space}, in order. */
  synchronized List<String> keys(String space) {
    return List.copyOf(spaces.getOrDefault(space, new TreeMap<>()).keySet());
  }

  synchronized int commits() {
    return commits;
  }

  @Override
  public synchronized Optional<Address> addressOf(Ed25519Key key) {
    return keys.entrySet().stream().filter(e -> e.getValue().contains(key)).map(Map.Entry::getKey).findFirst();
  }

  @Override
  public synchronized List<Ed25519Key> keysOf(Address address) {
    return List.copyOf(keys.getOrDefault(address, List.of()));
  }

  @Override
  public synchronized Optional<JsonObject> acceptedAnswer(MessageId id) {
    return Optional.ofNullable(accepted.get(id));
  }

  @Override
  public synchronized long lastCursor(Address address) {
    List<MailboxEntry> entries = mailboxes.getOrDefault(address, List.of());
    return entries.isEmpty() ? 0 : entries.get(entries.size() - 1).cursor();
  }

  @Override
  public synchronized List<MailboxEntry> readMailbox(Address address, long afterCursor, int limit) {
    return mailboxes.getOrDefault(address, List.of()).stream().filter(e -> e.cursor() > afterCursor).limit(limit).toList();
  }

  @Override
  public synchronized Optional<byte[]> get(String space, String key) {
    return Optional.ofNullable(spaces.getOrDefault(space, new TreeMap<>()).get(key)).map(byte[]::clone);
  }

  @Override
  public synchronized List<Stored> scan(String space, String fromKey, String toKey, int limit) {
    NavigableMap<String, byte[]> range = spaces.getOrDefault(space, new TreeMap<>()).subMap(fromKey, true, toKey, false);
    List<Stored> found = new ArrayList<>();
    for (Map.Entry<String, byte[]> e : range.entrySet()) {
      if (found.size() == limit) {
        break;
      }
      found.add(new Stored(e.getKey(), e.getValue().clone()));
    }
    return found;
  }

  @Override
  public CompletionStage<List<Long>> commit(StorageChange change) {
    CompletableFuture<List<Long>> done = new CompletableFuture<>();
    commitThread.execute(() -> {
      if (failing.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        done.completeExceptionally(new IllegalStateException("disk full (simulated)"));
        return;
      }
      done.complete(apply(change));
    });
    return done;
  }

  private synchronized List<Long> apply(StorageChange change) {
    commits++;
    change.bindKeys().forEach(b -> keys.computeIfAbsent(b.address(), a -> new ArrayList<>()).add(b.key()));
    change.unbindKeys().forEach(b -> keys.getOrDefault(b.address(), new ArrayList<>()).remove(b.key()));
    change.accepted().ifPresent(a -> accepted.put(a.id(), a.answer()));
    for (StorageChange.Delete delete : change.deletes()) {
      spaces.getOrDefault(delete.space(), new TreeMap<>()).remove(delete.key());
    }
    for (StorageChange.Put put : change.puts()) {
      spaces.computeIfAbsent(put.space(), s -> new TreeMap<>()).put(put.key(), put.value().clone());
    }
    List<Long> cursors = new ArrayList<>();
    for (StorageChange.Append append : change.appends()) {
      long cursor = lastCursor(append.address()) + 1;
      mailboxes.computeIfAbsent(append.address(), a -> new ArrayList<>()).add(append.entry().withCursor(cursor));
      cursors.add(cursor);
    }
    return cursors;
  }

  @Override
  public CompletionStage<Long> trim(long receivedBefore) {
    throw new UnsupportedOperationException("not needed by the plugin");
  }
}
