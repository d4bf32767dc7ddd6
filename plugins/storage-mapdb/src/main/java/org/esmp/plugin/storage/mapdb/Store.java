package org.esmp.plugin.storage.mapdb;

import java.nio.file.Path;
import java.util.Map;
import java.util.NavigableSet;
import org.mapdb.BTreeMap;
import org.mapdb.DB;
import org.mapdb.DBMaker;
import org.mapdb.Serializer;
import org.mapdb.serializer.SerializerArrayTuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The MapDB file and its collections. Layout, one B-tree each (a later feature adds its own):
 *
 * <ul>
 *   <li>{@code meta}: {@code "format"} → layout version
 *   <li>{@code identities}: address → its keys in base64, oldest first, space-separated (the
 *       key → address index is derived in memory at open)
 *   <li>{@code last_cursor}: address → cursor of the newest entry ever appended (kept after trim,
 *       so cursors are never reused)
 *   <li>{@code mailbox}: (address, cursor) → entry bytes ({@link Records#entry})
 *   <li>{@code accepted}: message id → acceptedAt and answer ({@link Records#accepted})
 *   <li>{@code accepted_by_time}: (acceptedAt, message id), so that trim finds old records without
 *       a scan
 * </ul>
 *
 * <p>Not thread-safe beyond what MapDB gives: only the commit thread writes, and readers of the
 * maps must only trust what {@link CommittedView} says is committed.
 */
final class Store {

  private static final Logger log = LoggerFactory.getLogger(Store.class);

  static final long FORMAT = 1;
  static final String KEY_SEPARATOR = " ";

  final Path file;
  final DB db;
  final BTreeMap<String, Long> meta;
  final BTreeMap<String, String> identities;
  final BTreeMap<String, Long> lastCursors;
  final BTreeMap<Object[], byte[]> mailbox;
  final BTreeMap<String, byte[]> accepted;
  final NavigableSet<Object[]> acceptedByTime;

  private Store(Path file, DB db) {
    this.file = file;
    this.db = db;
    meta = db.treeMap("meta", Serializer.STRING, Serializer.LONG).createOrOpen();
    identities = db.treeMap("identities", Serializer.STRING, Serializer.STRING).createOrOpen();
    lastCursors = db.treeMap("last_cursor", Serializer.STRING, Serializer.LONG).createOrOpen();
    // Entries are messages of up to 64 KiB: kept outside the B-tree nodes, inserts do not rewrite
    // whole nodes of neighbours' bytes.
    mailbox =
        db.treeMap("mailbox", new SerializerArrayTuple(Serializer.STRING, Serializer.LONG), Serializer.BYTE_ARRAY)
            .valuesOutsideNodesEnable()
            .createOrOpen();
    accepted =
        db.treeMap("accepted", Serializer.STRING_ASCII, Serializer.BYTE_ARRAY)
            .valuesOutsideNodesEnable()
            .createOrOpen();
    acceptedByTime =
        db.treeSet("accepted_by_time", new SerializerArrayTuple(Serializer.LONG, Serializer.STRING_ASCII))
            .createOrOpen();
  }

  /**
   * Opens (or creates) the store in {@code file}.
   *
   * <p>Transactions on an mmap volume: on this machine the RandomAccessFile and FileChannel
   * volumes lost committed data on some SIGKILLs during commits, the mmap volume never did.
   *
   * @throws IllegalStateException naming the file when it cannot be opened
   */
  static Store open(Path file) {
    DB db;
    try {
      db =
          DBMaker.fileDB(file.toFile())
              .fileMmapEnable()
              // Linux extends files with zeros already; pre-clearing again doubled the latency of a
              // single commit (9.6 -> 5.6 ms measured).
              .fileMmapPreclearDisable()
              // Without it closing leaves the mapping to the GC (uses Unsafe.invokeCleaner).
              .cleanerHackEnable()
              .transactionEnable()
              .make();
    } catch (RuntimeException | Error e) {
      // MapDB keeps its file lock in this JVM after a failed make(): the server must not go on.
      throw new IllegalStateException("storage-mapdb: cannot open " + file + ": " + e, e);
    }
    try {
      Store store = new Store(file, db);
      store.checkFormat();
      return store;
    } catch (RuntimeException | Error e) {
      closeQuietly(db);
      throw new IllegalStateException("storage-mapdb: " + file + " is damaged or unreadable: " + e, e);
    }
  }

  private void checkFormat() {
    Long format = meta.get("format");
    if (format == null) {
      if (!identities.isEmpty() || !lastCursors.isEmpty() || !accepted.isEmpty()) {
        throw new IllegalStateException("data without a format record");
      }
      meta.put("format", FORMAT);
      db.commit();
      log.info("Created storage file {}", file);
    } else if (format != FORMAT) {
      throw new IllegalStateException("layout format " + format + ", this plugin reads " + FORMAT);
    }
  }

  /**
   * Reads through every collection and checks they agree, so that a damaged file fails here, at
   * start, rather than while serving. Reads every key; of the large values, the first and last.
   *
   * @param records to decode sample values
   * @throws IllegalStateException saying what is wrong
   */
  void verify(Records records) {
    long identityCount = 0;
    for (Map.Entry<String, String> e : identities.entrySet()) {
      if (e.getValue().isEmpty()) {
        throw new IllegalStateException("address " + e.getKey() + " stored without keys");
      }
      identityCount++;
    }
    long entryCount = 0;
    String address = null;
    long last = 0;
    for (Object[] key : mailbox.keySet()) {
      String keyAddress = (String) key[0];
      long cursor = (Long) key[1];
      if (!keyAddress.equals(address)) {
        address = keyAddress;
        Long stored = lastCursors.get(address);
        last = stored == null ? -1 : stored;
      }
      if (cursor < 1 || cursor > last) {
        throw new IllegalStateException(
            "mailbox entry " + keyAddress + "/" + cursor + " beyond the last cursor " + last);
      }
      entryCount++;
    }
    if (!mailbox.isEmpty()) {
      Map.Entry<Object[], byte[]> first = mailbox.firstEntry();
      records.entry((Long) first.getKey()[1], first.getValue());
      Map.Entry<Object[], byte[]> lastEntry = mailbox.lastEntry();
      records.entry((Long) lastEntry.getKey()[1], lastEntry.getValue());
    }
    long acceptedCount = 0;
    for (String id : accepted.keySet()) {
      if (id.length() != 64) {
        throw new IllegalStateException("accepted record under a bad id " + id);
      }
      acceptedCount++;
    }
    long indexCount = 0;
    for (Object[] ignored : acceptedByTime) {
      indexCount++;
    }
    if (indexCount != acceptedCount) {
      throw new IllegalStateException(
          acceptedCount + " accepted records but " + indexCount + " in their time index");
    }
    if (!accepted.isEmpty()) {
      records.acceptedAnswer(accepted.firstEntry().getValue());
      records.acceptedAnswer(accepted.lastEntry().getValue());
    }
    log.info(
        "Opened storage file {}: {} addresses, {} mailbox entries, {} accepted message ids",
        file,
        identityCount,
        entryCount,
        acceptedCount);
  }

  /** Closes the file, unmapping it. */
  void close() {
    db.close();
  }

  static void closeQuietly(DB db) {
    try {
      db.close();
    } catch (RuntimeException | Error e) {
      log.warn("Closing the storage file after a failed open also failed", e);
    }
  }
}
