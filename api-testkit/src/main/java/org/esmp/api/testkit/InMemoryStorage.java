package org.esmp.api.testkit;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.esmp.api.Address;
import org.esmp.api.ConflictException;
import org.esmp.api.DuplicateException;
import org.esmp.api.Ed25519Key;
import org.esmp.api.MailboxEntry;
import org.esmp.api.MessageId;
import org.esmp.api.Stored;
import org.esmp.api.Writes;
import org.esmp.api.json.JsonObject;
import org.esmp.api.spi.Storage;
import org.esmp.api.spi.StorageChange;

/**
 * A {@link Storage} in memory, for tests: it checks every condition of a {@link StorageChange} as a
 * real storage must (expectations, expected keys, a key bound to one address, insert-if-absent of
 * accepted ids) and applies each change atomically. Nothing is durable.
 *
 * <p>Commits are applied one at a time, in the order they are called; their stages complete on
 * the executor given to {@link #completingOn} (the caller's thread by default), so that a test can
 * make commits complete the way a real storage does: later, on another thread, while other
 * writers race. Thread-safe.
 */
public final class InMemoryStorage implements Storage {

  private final Object lock = new Object();
  private final Map<Address, List<Ed25519Key>> keys = new HashMap<>();
  private final Map<Ed25519Key, Address> owners = new HashMap<>();
  private final Map<MessageId, StorageChange.Accepted> accepted = new HashMap<>();
  private final Map<Address, TreeMap<Long, MailboxEntry>> mailboxes = new HashMap<>();
  private final Map<Address, Long> lastCursors = new HashMap<>();
  private final Map<String, TreeMap<String, byte[]>> spaces = new HashMap<>();
  /** Kept entries ({@link Writes.Keep}) by space and key; a key holds a value or an entry. */
  private final Map<String, TreeMap<String, MailboxEntry>> kept = new HashMap<>();
  private volatile Executor completions = Runnable::run;
  private long commits;
  private int failing; // guarded by lock
  private long conflicts; // guarded by lock

  /** Completes the stages of commits on {@code executor} from now on. */
  public InMemoryStorage completingOn(Executor executor) {
    this.completions = executor;
    return this;
  }

  /**
   * Makes the next {@code n} commits fail with {@link IllegalStateException}, applying nothing, as
   * a storage that cannot write does.
   */
  public InMemoryStorage failNextCommits(int n) {
    synchronized (lock) {
      failing = n;
    }
    return this;
  }

  /** Every retained entry of {@code address}'s mailbox, oldest first. */
  public List<MailboxEntry> mailbox(Address address) {
    return readMailbox(address, 0, Integer.MAX_VALUE);
  }

  /** How many commits were refused with {@link ConflictException}: races lost. */
  public long conflicts() {
    synchronized (lock) {
      return conflicts;
    }
  }

  /** How many commits were applied (refused ones not counted). */
  public long commits() {
    synchronized (lock) {
      return commits;
    }
  }

  @Override
  public Optional<Address> addressOf(Ed25519Key key) {
    synchronized (lock) {
      return Optional.ofNullable(owners.get(key));
    }
  }

  @Override
  public List<Ed25519Key> keysOf(Address address) {
    synchronized (lock) {
      return List.copyOf(keys.getOrDefault(address, List.of()));
    }
  }

  @Override
  public List<Address> addresses(String after, int limit) {
    synchronized (lock) {
      TreeSet<String> names = new TreeSet<>();
      keys.forEach((address, bound) -> {
        if (!bound.isEmpty()) {
          names.add(address.toString());
        }
      });
      return names.tailSet(after, false).stream().limit(Math.max(0, limit)).map(Address::parse).toList();
    }
  }

  @Override
  public Optional<JsonObject> acceptedAnswer(MessageId id) {
    synchronized (lock) {
      return Optional.ofNullable(accepted.get(id)).map(StorageChange.Accepted::answer);
    }
  }

  @Override
  public long lastCursor(Address address) {
    synchronized (lock) {
      return lastCursors.getOrDefault(address, 0L);
    }
  }

  @Override
  public List<MailboxEntry> readMailbox(Address address, long afterCursor, int limit) {
    synchronized (lock) {
      List<MailboxEntry> found = new ArrayList<>();
      for (MailboxEntry entry : mailboxes.getOrDefault(address, new TreeMap<>()).tailMap(afterCursor, false).values()) {
        if (found.size() >= limit) {
          break;
        }
        found.add(entry);
      }
      return found;
    }
  }

  @Override
  public Optional<byte[]> get(String space, String key) {
    synchronized (lock) {
      byte[] value = spaces.getOrDefault(space, new TreeMap<>()).get(key);
      return Optional.ofNullable(value == null ? null : value.clone());
    }
  }

  @Override
  public List<Stored> scan(String space, String fromKey, String toKey, int limit) {
    synchronized (lock) {
      TreeMap<String, byte[]> values = spaces.get(space);
      if (values == null || limit <= 0 || fromKey.compareTo(toKey) >= 0) {
        return List.of();
      }
      List<Stored> found = new ArrayList<>();
      for (Map.Entry<String, byte[]> e : values.subMap(fromKey, true, toKey, false).entrySet()) {
        found.add(new Stored(e.getKey(), e.getValue().clone()));
        if (found.size() == limit) {
          break;
        }
      }
      return found;
    }
  }

  @Override
  public boolean keepsEntries() {
    return true;
  }

  @Override
  public Optional<MailboxEntry> entry(String space, String key) {
    synchronized (lock) {
      return Optional.ofNullable(kept.getOrDefault(space, new TreeMap<>()).get(key));
    }
  }

  @Override
  public List<MailboxEntry> entries(String space, String fromKey, String toKey, int limit) {
    synchronized (lock) {
      TreeMap<String, MailboxEntry> entries = kept.get(space);
      if (entries == null || limit <= 0 || fromKey.compareTo(toKey) >= 0) {
        return List.of();
      }
      return entries.subMap(fromKey, true, toKey, false).values().stream().limit(limit).toList();
    }
  }

  /** The keys of {@code space}, values' and kept entries', in order; for assertions. */
  public List<String> keys(String space) {
    synchronized (lock) {
      TreeSet<String> keys = new TreeSet<>(spaces.getOrDefault(space, new TreeMap<>()).keySet());
      keys.addAll(kept.getOrDefault(space, new TreeMap<>()).keySet());
      return List.copyOf(keys);
    }
  }

  @Override
  public CompletionStage<List<Long>> commit(StorageChange change) {
    List<Long> cursors;
    try {
      synchronized (lock) {
        if (failing > 0) {
          failing--;
          throw new IllegalStateException("the storage failed (InMemoryStorage.failNextCommits)");
        }
        try {
          check(change);
        } catch (ConflictException e) {
          conflicts++;
          throw e;
        }
        cursors = apply(change);
        commits++;
      }
    } catch (RuntimeException e) {
      return CompletableFuture.supplyAsync(() -> {
        throw e;
      }, completions);
    }
    return CompletableFuture.supplyAsync(() -> cursors, completions);
  }

  /** Throws the failure of the first condition that does not hold; under the lock. */
  private void check(StorageChange change) {
    for (Writes.Expect expect : change.writes().expectations()) {
      byte[] current = spaces.getOrDefault(expect.space(), new TreeMap<>()).get(expect.key());
      boolean entry = kept.getOrDefault(expect.space(), new TreeMap<>()).containsKey(expect.key());
      // A kept entry is a value that equals no bytes.
      boolean holds = expect.value().isEmpty() ? current == null && !entry
          : current != null && Arrays.equals(current, expect.value().get());
      if (!holds) {
        throw new ConflictException("the value of " + expect.space() + " " + expect.key() + " changed");
      }
    }
    for (StorageChange.KeysExpected expected : change.expectedKeys()) {
      if (!keys.getOrDefault(expected.address(), List.of()).equals(expected.keys())) {
        throw new ConflictException("the keys of " + expected.address() + " changed");
      }
    }
    for (StorageChange.KeyBinding bind : change.bindKeys()) {
      Address owner = owners.get(bind.key());
      if (owner != null && !owner.equals(bind.address())
          && !change.unbindKeys().contains(new StorageChange.KeyBinding(owner, bind.key()))) {
        throw new ConflictException("the key is bound to another address");
      }
    }
    change.accepted().ifPresent(a -> {
      StorageChange.Accepted first = accepted.get(a.id());
      if (first != null) {
        throw new DuplicateException(a.id(), first.answer());
      }
    });
  }

  private List<Long> apply(StorageChange change) {
    for (StorageChange.KeyBinding unbind : change.unbindKeys()) {
      List<Ed25519Key> list = keys.getOrDefault(unbind.address(), new ArrayList<>());
      if (list.remove(unbind.key())) {
        owners.remove(unbind.key());
      }
      if (list.isEmpty()) {
        keys.remove(unbind.address());
      }
    }
    for (StorageChange.KeyBinding bind : change.bindKeys()) {
      List<Ed25519Key> list = keys.computeIfAbsent(bind.address(), a -> new ArrayList<>());
      if (!list.contains(bind.key())) {
        list.add(bind.key());
        owners.put(bind.key(), bind.address());
      }
    }
    change.accepted().ifPresent(a -> accepted.put(a.id(), a));
    Writes writes = change.writes();
    for (Writes.Delete delete : writes.deletes()) {
      TreeMap<String, byte[]> values = spaces.get(delete.space());
      if (values != null) {
        values.remove(delete.key());
      }
      TreeMap<String, MailboxEntry> entries = kept.get(delete.space());
      if (entries != null) {
        entries.remove(delete.key());
      }
    }
    for (Writes.Put put : writes.puts()) {
      spaces.computeIfAbsent(put.space(), s -> new TreeMap<>()).put(put.key(), put.value().clone());
      kept.getOrDefault(put.space(), new TreeMap<>()).remove(put.key());
    }
    for (Writes.Keep keep : writes.keeps()) {
      kept.computeIfAbsent(keep.space(), s -> new TreeMap<>()).put(keep.key(), keep.entry().withCursor(0));
      spaces.getOrDefault(keep.space(), new TreeMap<>()).remove(keep.key());
    }
    List<Long> cursors = new ArrayList<>(writes.appends().size());
    for (Writes.Append append : writes.appends()) {
      long cursor = lastCursors.getOrDefault(append.address(), 0L) + 1;
      lastCursors.put(append.address(), cursor);
      mailboxes.computeIfAbsent(append.address(), a -> new TreeMap<>()).put(cursor, append.entry().withCursor(cursor));
      cursors.add(cursor);
    }
    return cursors;
  }

  @Override
  public CompletionStage<Long> trim(long receivedBefore) {
    long deleted = 0;
    synchronized (lock) {
      for (TreeMap<Long, MailboxEntry> mailbox : mailboxes.values()) {
        int before = mailbox.size();
        mailbox.values().removeIf(entry -> entry.receivedAt() < receivedBefore);
        deleted += before - mailbox.size();
      }
      accepted.values().removeIf(a -> a.acceptedAt() < receivedBefore);
    }
    return CompletableFuture.completedFuture(deleted);
  }
}
