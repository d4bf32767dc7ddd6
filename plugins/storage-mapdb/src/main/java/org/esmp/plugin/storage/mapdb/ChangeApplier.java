package org.esmp.plugin.storage.mapdb;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.esmp.api.Address;
import org.esmp.api.ConflictException;
import org.esmp.api.DuplicateException;
import org.esmp.api.Ed25519Key;
import org.esmp.api.Writes;
import org.esmp.api.json.JsonObject;
import org.esmp.api.spi.StorageChange;
import org.esmp.plugin.storage.mapdb.CommittedView.Mailbox;

/**
 * Writes the changes of one batch into the store's open transaction, one at a time in queue order,
 * and keeps what the batch changed so far, which the committed view does not show yet: each
 * address's keys, each mailbox's id and last cursor, and the ids accepted at each millisecond. One
 * is made for each batch (or half of one that was too large for a journal record) and dropped once
 * it is committed or rolled back.
 *
 * <p>A change's conditions ({@link #refusal}) are checked against the open transaction, which holds
 * every change committed and every change of the batch applied before it, together with the key
 * changes of the batch so far; the commit thread is the only writer, so nothing can come between
 * a check and the writes that follow it ({@link #apply}).
 *
 * <p>A mailbox that receives its first entry gets the next address id; {@link #nextAddressId} is
 * carried over to the next batch only once this one is committed. Two kinds of writes wait for the
 * end of the batch ({@link #writeIndexes}): the time-index entry of each millisecond and the last
 * cursor of each mailbox, once per batch rather than per id or entry. An accepted id is added to
 * {@link CommittedView#pendingIds} before its record is put into the map; keys and mailboxes reach
 * the committed view after the commit ({@link #publish}).
 *
 * <p>Commit thread only.
 */
final class ChangeApplier {

  private final Store store;
  private final CommittedView view;
  private final Records records;
  private final KeptMessages messages;
  private final Map<Address, List<Ed25519Key>> batchKeys = new HashMap<>();
  private final Map<Address, Mailbox> batchMailboxes = new HashMap<>();
  /** Accepted time → prefixes accepted then in this batch: the time-index entries to write. */
  private final Map<Long, Set<Long>> batchTimes = new HashMap<>();
  private long nextAddressId;

  /**
   * @param nextAddressId the id the first mailbox this batch creates gets
   */
  ChangeApplier(Store store, CommittedView view, Records records, long nextAddressId) {
    this.store = store;
    this.view = view;
    this.records = records;
    this.messages = new KeptMessages(store);
    this.nextAddressId = nextAddressId;
  }

  /**
   * Why {@code task}'s change must not be applied, checked against the open transaction and the
   * key changes of the batch so far; {@code null} when every condition holds.
   */
  RuntimeException refusal(ChangeTask task) {
    StorageChange change = task.change;
    for (Writes.Expect expect : change.writes().expectations()) {
      // A kept entry is a value that equals no bytes (see Writes.Keep).
      if (!view.values.holds(expect)
          || expect.value().isEmpty() && view.kept.contains(KeyValues.key(expect.space(), expect.key()))) {
        return new ConflictException("the value of " + expect.space() + " " + expect.key() + " changed");
      }
    }
    for (StorageChange.KeysExpected expected : change.expectedKeys()) {
      if (!keysInBatch(expected.address()).equals(expected.keys())) {
        return new ConflictException("the keys of " + expected.address() + " changed");
      }
    }
    for (StorageChange.KeyBinding bind : change.bindKeys()) {
      Address owner = ownerInBatch(bind.key());
      if (owner != null && !owner.equals(bind.address())
          && !change.unbindKeys().contains(new StorageChange.KeyBinding(owner, bind.key()))) {
        return new ConflictException("the key is bound to another address");
      }
    }
    if (change.accepted().isPresent()) {
      StorageChange.Accepted accepted = change.accepted().get();
      byte[] bucket = store.accepted.get(Keys.idPrefix(accepted.id()));
      if (bucket != null) {
        Optional<JsonObject> answer = records.acceptedAnswer(bucket, Keys.idBytes(accepted.id()));
        if (answer.isPresent()) {
          return new DuplicateException(accepted.id(), answer.get());
        }
      }
    }
    return null;
  }

  /** The address {@code key} is bound to after the batch so far, or null. */
  private Address ownerInBatch(Ed25519Key key) {
    for (Map.Entry<Address, List<Ed25519Key>> e : batchKeys.entrySet()) {
      if (e.getValue().contains(key)) {
        return e.getKey();
      }
    }
    Address committed = view.addressOf(key).orElse(null);
    return committed != null && keysInBatch(committed).contains(key) ? committed : null;
  }

  /**
   * Writes one change into the open transaction, its plugin values included, except its time-index
   * entry, which waits for {@link #writeIndexes}; returns the cursors of its appends.
   */
  List<Long> apply(ChangeTask task) {
    StorageChange change = task.change;
    // Unbinding first lets one change move a key from one address to another.
    for (StorageChange.KeyBinding unbind : change.unbindKeys()) {
      List<Ed25519Key> keys = new ArrayList<>(keysInBatch(unbind.address()));
      if (keys.remove(unbind.key())) {
        writeKeys(unbind.address(), keys);
      }
    }
    for (StorageChange.KeyBinding bind : change.bindKeys()) {
      List<Ed25519Key> keys = new ArrayList<>(keysInBatch(bind.address()));
      if (!keys.contains(bind.key())) {
        keys.add(bind.key());
        writeKeys(bind.address(), keys);
      }
    }
    if (change.accepted().isPresent()) {
      StorageChange.Accepted accepted = change.accepted().get();
      // Pending before it is in the map: see CommittedView.
      view.pendingIds.add(accepted.id().hex());
      long prefix = Keys.idPrefix(accepted.id());
      byte[] previous = store.accepted.put(prefix, task.acceptedValue);
      if (previous != null) {
        mergeAccepted(prefix, previous, task.acceptedValue);
      }
      batchTimes.computeIfAbsent(accepted.acceptedAt(), t -> new LinkedHashSet<>()).add(prefix);
    }
    for (KeptMessages.Encoded message : task.shared) {
      if (message.shared() && !messages.add(message)) {
        message.storeWhole();
      }
    }
    List<Long> cursors = new ArrayList<>(change.writes().appends().size());
    for (int i = 0; i < change.writes().appends().size(); i++) {
      Address address = change.writes().appends().get(i).address();
      Mailbox mailbox = batchMailboxes.get(address);
      if (mailbox == null) {
        mailbox = view.mailbox(address);
      }
      if (mailbox == null) {
        mailbox = new Mailbox(nextAddressId++, 0);
        store.addresses.put(address.toString(), mailbox.id());
      }
      long cursor = mailbox.lastCursor() + 1;
      store.mailbox.put(Keys.mailbox(mailbox.id(), cursor), task.appended[i].stored());
      batchMailboxes.put(address, new Mailbox(mailbox.id(), cursor));
      cursors.add(cursor);
    }
    applyValues(task);
    return List.copyOf(cursors);
  }

  /**
   * Writes a change's deletes, puts and kept entries, in that order. A key holds a value or a kept
   * entry: each write removes the other, and a kept entry removed or replaced releases its message.
   */
  private void applyValues(ChangeTask task) {
    Writes writes = task.change.writes();
    for (Writes.Delete delete : writes.deletes()) {
      String key = KeyValues.key(delete.space(), delete.key());
      view.values.remove(key);
      messages.release(view.kept.remove(key));
    }
    for (Writes.Put put : writes.puts()) {
      String key = KeyValues.key(put.space(), put.key());
      view.values.put(key, put.value());
      messages.release(view.kept.remove(key));
    }
    for (int i = 0; i < writes.keeps().size(); i++) {
      Writes.Keep keep = writes.keeps().get(i);
      String key = KeyValues.key(keep.space(), keep.key());
      view.values.remove(key);
      messages.release(view.kept.put(key, task.kept[i].stored()));
    }
  }

  /**
   * Puts the record just written back together with the other records of its bucket: another id
   * with the same prefix, or an earlier record of the same id (which it replaces, with its time
   * key). Rare: ids are SHA-256 digests, and a resend is answered from the stored record.
   */
  private void mergeAccepted(long prefix, byte[] previous, byte[] written) {
    Records.Accepted record = Records.acceptedRecords(written).get(0);
    List<Records.Accepted> bucket = new ArrayList<>(Records.acceptedRecords(previous));
    int same = 0;
    while (same < bucket.size() && !bucket.get(same).isFor(record.id())) {
      same++;
    }
    if (same == bucket.size()) {
      bucket.add(record);
    } else {
      long replacedAt = bucket.set(same, record).acceptedAt();
      if (bucket.stream().noneMatch(a -> a.acceptedAt() == replacedAt)) {
        // Its time entry is in this batch's, or already stored.
        Set<Long> inBatch = batchTimes.get(replacedAt);
        if (inBatch != null) {
          inBatch.remove(prefix);
        }
        unindexTime(replacedAt, prefix);
      }
    }
    store.accepted.put(prefix, Records.acceptedBucket(bucket));
  }

  /** Removes {@code prefix} from the time-index entry of {@code acceptedAt}. */
  private void unindexTime(long acceptedAt, long prefix) {
    long[] stored = store.acceptedByTime.get(acceptedAt);
    if (stored == null) {
      return;
    }
    long[] kept = Arrays.stream(stored).filter(p -> p != prefix).toArray();
    if (kept.length == 0) {
      store.acceptedByTime.remove(acceptedAt);
    } else if (kept.length < stored.length) {
      store.acceptedByTime.put(acceptedAt, kept);
    }
  }

  private List<Ed25519Key> keysInBatch(Address address) {
    List<Ed25519Key> keys = batchKeys.get(address);
    return keys != null ? keys : view.keysOf(address);
  }

  private void writeKeys(Address address, List<Ed25519Key> keys) {
    if (keys.isEmpty()) {
      store.identities.remove(address.toString());
    } else {
      store.identities.put(address.toString(), CommittedView.encodeKeys(keys));
    }
    batchKeys.put(address, keys);
  }

  /**
   * Writes what waits for the end of the batch: each millisecond's time-index entry, merged with
   * the stored one.
   */
  void writeIndexes() {
    // Once per millisecond and batch, not per id.
    for (Map.Entry<Long, Set<Long>> e : batchTimes.entrySet()) {
      if (e.getValue().isEmpty()) {
        continue; // its only id was accepted again later in the batch
      }
      Set<Long> prefixes = new LinkedHashSet<>();
      long[] stored = store.acceptedByTime.get(e.getKey());
      if (stored != null) {
        Arrays.stream(stored).forEach(prefixes::add);
      }
      prefixes.addAll(e.getValue());
      store.acceptedByTime.put(e.getKey(), prefixes.stream().mapToLong(Long::longValue).toArray());
    }
    // A mailbox's last cursor is its newest entry's key: written to last_cursor only by a trim
    // that deletes entries (Retention), not once per mailbox and batch.
  }

  /** After the commit: makes the batch's keys and mailboxes the committed view's. */
  void publish() {
    batchKeys.forEach(view::publishKeys);
    view.mailboxes.putAll(batchMailboxes);
  }

  /** The id the next new mailbox gets, after the mailboxes this batch created. */
  long nextAddressId() {
    return nextAddressId;
  }
}
