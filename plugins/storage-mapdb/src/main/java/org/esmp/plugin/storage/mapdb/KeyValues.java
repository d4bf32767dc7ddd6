package org.esmp.plugin.storage.mapdb;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.esmp.api.Stored;
import org.esmp.api.Writes;
import org.esmp.api.spi.Storage;
import org.esmp.api.spi.StorageChange;

/**
 * The values plugins keep ({@link Writes.Put}), in one B-tree keyed by
 * {@code space + NUL + key}, so that each space is one key range in {@link String} order.
 *
 * <p>Readers see committed values only, although MapDB shows the open transaction's writes to every
 * thread: before the commit thread first writes a key in a batch, it records the key's committed
 * value (or its absence) in {@link #pending}; readers take the pending record over the map's value.
 * The records leave after the commit, or after a rollback, which first counts up
 * {@code rollbacks}: a reader that read the map before a rollback and the (by then cleared)
 * pending records after it sees the rollback count change and reads again.
 *
 * <p>Written by the commit thread only; read by any thread.
 */
final class KeyValues {

  /** Separates a space from a key; a space name may not contain it. */
  static final char SEPARATOR = '\u0000';

  /** The committed value of a key written in the batch being committed; {@code null}: absent. */
  private record Committed(byte[] value) {}

  private final Supplier<NavigableMap<String, byte[]>> map;
  private final AtomicLong rollbacks;
  private final Map<String, Committed> pending = new ConcurrentHashMap<>();

  /**
   * @param map the store's B-tree of values (a new one after each rollback)
   * @param rollbacks counted up by the commit thread after each rollback, before pending records
   *     are cleared
   */
  KeyValues(Supplier<NavigableMap<String, byte[]>> map, AtomicLong rollbacks) {
    this.map = map;
    this.rollbacks = rollbacks;
  }

  static String key(String space, String key) {
    if (space.isEmpty() || space.indexOf(SEPARATOR) >= 0) {
      throw new IllegalArgumentException("a space name is non-empty and has no NUL character: " + space);
    }
    return space + SEPARATOR + key;
  }

  /** Checks a change's spaces before it is queued, so that a bad one fails alone. */
  static void check(StorageChange change) {
    change.writes().puts().forEach(put -> key(put.space(), put.key()));
    change.writes().deletes().forEach(delete -> key(delete.space(), delete.key()));
    change.writes().expectations().forEach(expect -> key(expect.space(), expect.key()));
    change.writes().keeps().forEach(keep -> key(keep.space(), keep.key()));
  }

  /**
   * Commit thread: puts {@code value} under {@code key} (see {@link #key}) in the open transaction.
   *
   * @return the value it replaced, or null
   */
  byte[] put(String key, byte[] value) {
    remember(key);
    return map.get().put(key, value);
  }

  /**
   * Commit thread: removes {@code key} in the open transaction.
   *
   * @return the value removed, or null
   */
  byte[] remove(String key) {
    if (!map.get().containsKey(key)) {
      return null; // nothing to remember or remove
    }
    remember(key);
    return map.get().remove(key);
  }

  /** Commit thread: whether {@code key} (see {@link #key}) has a value in the open transaction. */
  boolean contains(String key) {
    return map.get().containsKey(key);
  }

  private void remember(String key) {
    // Only the first write of a key in a batch sees its committed value.
    pending.computeIfAbsent(key, k -> new Committed(map.get().get(k)));
  }

  /**
   * Commit thread: whether {@code expect} holds in the open transaction, that is after every change
   * committed and every change applied before it in this batch.
   */
  boolean holds(Writes.Expect expect) {
    byte[] current = map.get().get(key(expect.space(), expect.key()));
    return expect.value().isEmpty() ? current == null : current != null && Arrays.equals(current, expect.value().get());
  }

  /** Commit thread: the batch committed or rolled back; its values are what the map holds. */
  void clearPending() {
    pending.clear();
  }

  /** The committed value under {@code key} in {@code space}, or null; not a copy: callers must not change it. */
  byte[] committed(String space, String key) {
    String full = key(space, key);
    while (true) {
      long before = rollbacks.get();
      byte[] value = map.get().get(full);
      Committed committed = pending.get(full);
      if (rollbacks.get() == before) {
        return committed != null ? committed.value() : value;
      }
    }
  }

  /** See {@link Storage#get}. */
  Optional<byte[]> get(String space, String key) {
    byte[] value = committed(space, key);
    return Optional.ofNullable(value == null ? null : value.clone());
  }

  /** See {@link Storage#scan}. */
  List<Stored> scan(String space, String fromKey, String toKey, int limit) {
    String from = key(space, fromKey);
    String to = key(space, toKey);
    if (limit <= 0 || from.compareTo(to) >= 0) {
      return List.of();
    }
    while (true) {
      long before = rollbacks.get();
      // Forward only: MapDB 3.1.0's reverse iteration failed its own assertion on a healthy tree.
      NavigableMap<String, byte[]> range = map.get().subMap(from, true, to, false);
      List<Stored> found = new ArrayList<>(Math.min(limit, 256));
      for (Map.Entry<String, byte[]> entry : range.entrySet()) {
        Committed committed = pending.get(entry.getKey());
        byte[] value = committed != null ? committed.value() : entry.getValue();
        if (value != null) {
          found.add(new Stored(entry.getKey().substring(space.length() + 1), value.clone()));
          if (found.size() == limit) {
            break;
          }
        }
      }
      // Keys deleted in the pending batch are gone from the map but committed: put them back.
      for (Map.Entry<String, Committed> entry : pending.entrySet()) {
        String key = entry.getKey();
        if (entry.getValue().value() != null && key.compareTo(from) >= 0 && key.compareTo(to) < 0
            && !map.get().containsKey(key)) {
          found.add(new Stored(key.substring(space.length() + 1), entry.getValue().value().clone()));
        }
      }
      if (rollbacks.get() != before) {
        continue;
      }
      found.sort((a, b) -> a.key().compareTo(b.key()));
      return found.size() > limit ? Collections.unmodifiableList(found.subList(0, limit)) : found;
    }
  }
}
