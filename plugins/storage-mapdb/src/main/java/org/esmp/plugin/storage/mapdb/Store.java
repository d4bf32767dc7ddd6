package org.esmp.plugin.storage.mapdb;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.mapdb.BTreeMap;
import org.mapdb.DB;
import org.mapdb.DBMaker;
import org.mapdb.Serializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The MapDB file and its collections. Layout (format 3), one B-tree each (a later feature adds its
 * own):
 *
 * <ul>
 *   <li>{@code meta}: {@code "format"} → layout version
 *   <li>{@code identities}: address → its keys in base64, oldest first, space-separated (the
 *       key → address index is derived in memory at open)
 *   <li>{@code addresses}: address → its id, numbered from 1 when it first receives an entry
 *   <li>{@code last_cursor}: address id → cursor of the newest entry ever appended, written by a
 *       trim that deletes entries of the mailbox, so that cursors are never reused: a mailbox's last
 *       cursor is the larger of this and its newest entry's (format 2 wrote it at every commit)
 *   <li>{@code mailbox}: {@link Keys#mailbox (address id, cursor)} → the entry: whole
 *       ({@link Records#entry}) when its message has no other reference, else a
 *       {@link Records#reference reference} to the message kept once in {@code messages}
 *   <li>{@code messages}: {@link Keys#idPrefix message id prefix} → bucket of messages kept once
 *       ({@link Records#messageBucket}), each as a whole entry without cursor
 *   <li>{@code message_refs}: message id prefix → how many references (mailbox entries, kept
 *       entries) point into that bucket; the bucket goes when it drops to 0
 *   <li>{@code kept}: space + NUL + key → a kept entry ({@link org.esmp.api.Writes.Keep}), whole or
 *       a reference, as in {@code mailbox}
 *   <li>{@code accepted}: {@link Keys#idPrefix message id prefix} → bucket of accepted records
 *       ({@link Records#accepted})
 *   <li>{@code accepted_by_time}: acceptedAt → the distinct prefixes of the ids accepted at that
 *       millisecond, so that trim finds old records without a scan. One key per millisecond, not
 *       per id: a batch writes it once per millisecond it spans, at the end of the B-tree.
 * </ul>
 *
 * <p>Every message writes into {@code mailbox}, {@code accepted} and {@code accepted_by_time};
 * their keys are longs because MapDB decodes each node on the way down and rewrites a whole leaf
 * per insert (see {@link Keys}). Format 1 keyed them by strings and cost several times more.
 * Format 2 stored a whole copy of a message in each mailbox it went to; format 3 adds
 * {@code messages}, {@code message_refs} and {@code kept}, and a format 2 file is upgraded in
 * place when opened (its entries are whole entries, which format 3 reads as they are).
 *
 * <p>Not thread-safe beyond what MapDB gives: only the commit thread writes, and readers of the
 * maps must only trust what {@link CommittedView} says is committed.
 */
final class Store {

  private static final Logger log = LoggerFactory.getLogger(Store.class);

  static final long FORMAT = 3;
  /** The format before messages were kept once: opened and upgraded. */
  static final long FORMAT_WHOLE_COPIES = 2;
  static final String KEY_SEPARATOR = " ";

  final Path file;
  private final JournaledVolume volume;
  // Replaced together after a rollback (see rollback()), hence volatile and not final.
  volatile DB db;
  volatile BTreeMap<String, Long> meta;
  volatile BTreeMap<String, String> identities;
  volatile BTreeMap<String, Long> addresses;
  volatile BTreeMap<Long, Long> lastCursors;
  volatile BTreeMap<Long, byte[]> mailbox;
  volatile BTreeMap<Long, byte[]> accepted;
  volatile BTreeMap<Long, long[]> acceptedByTime;
  volatile BTreeMap<Long, byte[]> messages;
  volatile BTreeMap<Long, Long> messageRefs;
  /** Kept entries, keyed as {@link #values}. */
  volatile BTreeMap<String, byte[]> kept;
  /** Values plugins keep, keyed by space + NUL + key: see {@link KeyValues}. */
  volatile BTreeMap<String, byte[]> values;

  /** Opens MapDB on {@code volume}; creating a new store is committed by {@link #recordFormatIfNew}. */
  private Store(Path file, JournaledVolume volume) {
    this.file = file;
    this.volume = volume;
    // MapDB commits while it creates the store, its catalog and each collection: a kill between
    // those commits would leave a store MapDB cannot open. Creation is one journal record instead.
    volume.deferSyncs(!volume.existed());
    openCollections(volume.existed());
  }

  /** Opens MapDB on the volume and its collections, creating what is missing. */
  private void openCollections(boolean existed) {
    DB db = DBMaker.volumeDB(volume, existed).make();
    meta = db.treeMap("meta", Serializer.STRING, Serializer.LONG).createOrOpen();
    // Before opening the rest with this format's serializers.
    Long format = meta.get("format");
    if (format != null && format != FORMAT && format != FORMAT_WHOLE_COPIES) {
      throw new IllegalStateException("layout format " + format + ", this plugin reads " + FORMAT_WHOLE_COPIES
          + " and " + FORMAT);
    }
    if (format != null && format == FORMAT_WHOLE_COPIES) {
      // The upgrade creates collections, and MapDB commits after each: one journal record instead.
      volume.deferSyncs(true);
    }
    identities = db.treeMap("identities", Serializer.STRING, Serializer.STRING).createOrOpen();
    addresses = db.treeMap("addresses", Serializer.STRING, Serializer.LONG).createOrOpen();
    lastCursors = db.treeMap("last_cursor", Serializer.LONG, Serializer.LONG).createOrOpen();
    // Entries are messages of up to 64 KiB: kept outside the B-tree nodes, inserts do not rewrite
    // whole nodes of neighbours' bytes.
    mailbox =
        db.treeMap("mailbox", Serializer.LONG, Serializer.BYTE_ARRAY)
            .valuesOutsideNodesEnable()
            .createOrOpen();
    accepted =
        db.treeMap("accepted", Serializer.LONG, Serializer.BYTE_ARRAY)
            .valuesOutsideNodesEnable()
            .createOrOpen();
    acceptedByTime = db.treeMap("accepted_by_time", Serializer.LONG, Serializer.LONG_ARRAY).createOrOpen();
    // Group threads keep whole messages here: values outside the nodes, as for the mailbox.
    values = db.treeMap("values", Serializer.STRING, Serializer.BYTE_ARRAY).valuesOutsideNodesEnable().createOrOpen();
    messages =
        db.treeMap("messages", Serializer.LONG, Serializer.BYTE_ARRAY)
            .valuesOutsideNodesEnable()
            .createOrOpen();
    messageRefs = db.treeMap("message_refs", Serializer.LONG, Serializer.LONG).createOrOpen();
    kept = db.treeMap("kept", Serializer.STRING, Serializer.BYTE_ARRAY).valuesOutsideNodesEnable().createOrOpen();
    this.db = db;
  }

  /** The volume under MapDB: for tests. */
  JournaledVolume volume() {
    return volume;
  }

  /** Commits every write since the last commit, durably: see {@link JournaledVolume#sync()}. */
  void commit() {
    db.commit();
  }

  /**
   * Undoes every write since the last commit. MapDB's plain store keeps some of its state in
   * memory and cannot roll back, so the volume restores its bytes and MapDB is opened anew on
   * them; the abandoned instance is never used or closed again (closing would close the volume).
   */
  void rollback() {
    volume.rollback();
    openCollections(true);
  }

  /**
   * Opens (or creates) the store in {@code file}, replaying its journal first.
   *
   * <p>MapDB's plain store (no MapDB transactions) on a {@link JournaledVolume}: MapDB 3.1's own
   * transactions do not survive a kill during a commit's copy into the file, the journal does.
   *
   * @param failure where the store reports that it failed for good
   * @throws IllegalStateException naming the file when it cannot be opened
   */
  static Store open(Path file, StorageFailure failure, JournalOptions options) {
    JournaledVolume volume;
    try {
      volume = JournaledVolume.open(file, failure, options);
    } catch (RuntimeException | Error e) {
      throw new IllegalStateException("storage-mapdb: cannot open " + file + ": " + e, e);
    }
    try {
      Store store = new Store(file, volume);
      store.recordFormatIfNew();
      return store;
    } catch (RuntimeException | Error e) {
      volume.close();
      throw new IllegalStateException("storage-mapdb: " + file + " is damaged or unreadable: " + e, e);
    }
  }

  /**
   * Marks a new, empty file with this format, and commits it with the whole creation as one
   * journal record; refuses data without a format record.
   */
  private void recordFormatIfNew() {
    volume.deferSyncs(false);
    Long format = meta.get("format");
    if (format == null) {
      if (!identities.isEmpty() || !addresses.isEmpty() || !accepted.isEmpty()) {
        throw new IllegalStateException("data without a format record");
      }
      meta.put("format", FORMAT);
      commit();
      log.info("Created storage file {}", file);
    } else if (format == FORMAT_WHOLE_COPIES) {
      // Its collections were created above, empty; its whole entries are read as they are.
      meta.put("format", FORMAT);
      commit();
      log.info("Upgraded storage file {} from format {} to {}: messages from now on are kept once", file,
          FORMAT_WHOLE_COPIES, FORMAT);
    }
  }

  /**
   * Reads through every collection and checks they agree, so that a damaged file fails here, at
   * start, rather than while serving. Reads every key and every accepted record; of the large
   * values (mailbox entries), the first and last. Checks that the keys of each B-tree come in
   * increasing order: a damaged tree (from a disk fault or a bug; a kill cannot damage it, see
   * {@link JournaledVolume}) can have leaf links that loop, and reading it through would never end.
   *
   * @param records to decode sample values
   * @return the cursor of each mailbox's newest entry, by address id, read on the way: what
   *     {@link CommittedView#load} needs, so that opening reads the mailbox keys once
   * @throws IllegalStateException saying what is wrong
   */
  Map<Long, Long> verify(Records records) {
    // Forward iteration only, here and below: MapDB 3.1.0's reverse iteration (lastEntry,
    // descendingMap, lowerEntry) threw "wrong reverse iteration" on a store that reads fine forward.
    String lastValueKey = null;
    for (String key : values.keySet()) {
      lastValueKey = ascending(lastValueKey, key, "values");
      if (key.indexOf(KeyValues.SEPARATOR) < 1) {
        throw new IllegalStateException("a plugin value is stored without a space: " + key);
      }
    }
    if (lastValueKey != null) {
      values.firstEntry().getValue();
      values.get(lastValueKey);
    }
    long identityCount = 0;
    String previousText = null;
    for (Map.Entry<String, String> e : identities.entrySet()) {
      previousText = ascending(previousText, e.getKey(), "identities");
      if (e.getValue().isEmpty()) {
        throw new IllegalStateException("address " + e.getKey() + " stored without keys");
      }
      identityCount++;
    }
    Set<Long> addressIds = new HashSet<>();
    previousText = null;
    for (Map.Entry<String, Long> e : addresses.entrySet()) {
      previousText = ascending(previousText, e.getKey(), "addresses");
      long id = e.getValue();
      if (id < 1 || id > Keys.MAX_ADDRESS_ID || !addressIds.add(id)) {
        throw new IllegalStateException("address " + e.getKey() + " has a bad or shared id " + id);
      }
    }
    Long previous = null;
    for (Long id : lastCursors.keySet()) {
      previous = ascending(previous, id, "last_cursor");
      if (!addressIds.contains(id)) {
        throw new IllegalStateException("last cursor of an unknown address id " + id);
      }
    }
    Map<Long, Long> newestEntries = new HashMap<>();
    long entryCount = 0;
    long addressId = -1;
    long lastEntryKey = 0;
    previous = null;
    for (Long key : mailbox.keySet()) {
      previous = ascending(previous, key, "mailbox");
      lastEntryKey = key;
      long keyAddress = Keys.addressId(key);
      long cursor = Keys.cursor(key);
      if (keyAddress != addressId) {
        addressId = keyAddress;
        if (!addressIds.contains(addressId)) {
          throw new IllegalStateException("mailbox entry " + keyAddress + "/" + cursor + " of an unknown address id");
        }
      }
      if (cursor < 1) {
        throw new IllegalStateException("mailbox entry " + keyAddress + "/" + cursor + " at a cursor below 1");
      }
      newestEntries.put(keyAddress, cursor); // keys come in cursor order: the last one stays
      entryCount++;
    }
    KeptMessages kept = new KeptMessages(this);
    if (!mailbox.isEmpty()) {
      Map.Entry<Long, byte[]> first = mailbox.firstEntry();
      readable(records, kept, Keys.cursor(first.getKey()), first.getValue(), "mailbox");
      readable(records, kept, Keys.cursor(lastEntryKey), mailbox.get(lastEntryKey), "mailbox");
    }
    long keptMessages = verifyKeptMessages(records, kept);
    long acceptedCount = 0;
    long timeKeys = 0;
    byte[] lastAccepted = null;
    previous = null;
    for (Map.Entry<Long, byte[]> e : accepted.entrySet()) {
      previous = ascending(previous, e.getKey(), "accepted");
      lastAccepted = e.getValue();
      Set<Long> times = new HashSet<>();
      for (Records.Accepted record : Records.acceptedRecords(e.getValue())) {
        if (ByteBuffer.wrap(record.id()).getLong() != e.getKey()) {
          throw new IllegalStateException("accepted record under another id's prefix " + e.getKey());
        }
        times.add(record.acceptedAt());
        acceptedCount++;
      }
      // Records of one bucket accepted at the same millisecond share one time-index entry.
      timeKeys += times.size();
    }
    long indexCount = 0;
    previous = null;
    for (Map.Entry<Long, long[]> e : acceptedByTime.entrySet()) {
      previous = ascending(previous, e.getKey(), "accepted_by_time");
      indexCount += e.getValue().length;
    }
    if (indexCount != timeKeys) {
      throw new IllegalStateException(
          acceptedCount + " accepted records need " + timeKeys + " time-index entries but there are " + indexCount);
    }
    if (!accepted.isEmpty()) {
      records.answer(Records.acceptedRecords(accepted.firstEntry().getValue()).get(0));
      records.answer(Records.acceptedRecords(lastAccepted).get(0));
    }
    log.info(
        "Opened storage file {}: {} addresses, {} mailbox entries, {} accepted message ids, {} messages kept once",
        file,
        identityCount,
        entryCount,
        acceptedCount,
        keptMessages);
    return newestEntries;
  }

  /**
   * Checks {@code messages}, {@code message_refs} and {@code kept}: keys in order, each bucket of
   * messages with a positive reference count and no count without its bucket, the first and last
   * bucket and kept entry readable.
   *
   * @return how many messages are kept once
   */
  private long verifyKeptMessages(Records records, KeptMessages kept) {
    long count = 0;
    Long previous = null;
    Long lastKey = null;
    for (Long prefix : messages.keySet()) {
      previous = ascending(previous, prefix, "messages");
      Long refs = messageRefs.get(prefix);
      if (refs == null || refs < 1) {
        throw new IllegalStateException("kept messages " + Long.toHexString(prefix) + " without references");
      }
      lastKey = prefix;
    }
    previous = null;
    for (Long prefix : messageRefs.keySet()) {
      previous = ascending(previous, prefix, "message_refs");
      if (!messages.containsKey(prefix)) {
        throw new IllegalStateException("references to kept messages " + Long.toHexString(prefix) + " that are gone");
      }
    }
    if (lastKey != null) {
      for (byte[] bucket : List.of(messages.firstEntry().getValue(), messages.get(lastKey))) {
        for (Records.KeptMessage m : Records.keptMessages(bucket)) {
          records.entry(0, m.entry());
        }
      }
      count = messageRefs.size();
    }
    String previousKey = null;
    String lastKept = null;
    for (String key : this.kept.keySet()) {
      previousKey = ascending(previousKey, key, "kept");
      lastKept = key;
    }
    if (lastKept != null) {
      readable(records, kept, 0, this.kept.firstEntry().getValue(), "kept");
      readable(records, kept, 0, this.kept.get(lastKept), "kept");
    }
    return count;
  }

  /** Checks that a stored entry decodes, through the message it refers to if it does. */
  private static void readable(Records records, KeptMessages kept, long cursor, byte[] stored, String map) {
    byte[] whole = kept.whole(stored);
    if (whole == null) {
      throw new IllegalStateException(map + ": an entry refers to a message that is gone");
    }
    records.entry(cursor, whole);
  }

  /** Returns {@code key}, having checked that it sorts after {@code previous} (if any). */
  private static <K extends Comparable<K>> K ascending(K previous, K key, String map) {
    if (previous != null && previous.compareTo(key) >= 0) {
      throw new IllegalStateException(map + ": keys out of order (" + previous + " then " + key + ")");
    }
    return key;
  }

  /** Closes the file, unmapping it; what was committed is checkpointed into it. */
  void close() {
    db.close();
  }

  void closeQuietly() {
    try {
      close();
    } catch (RuntimeException | Error e) {
      log.warn("Closing the storage file after a failed open also failed", e);
    }
  }
}
