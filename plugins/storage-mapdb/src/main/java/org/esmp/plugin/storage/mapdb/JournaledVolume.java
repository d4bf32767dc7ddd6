package org.esmp.plugin.storage.mapdb;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import org.esmp.api.StorageFailedException;
import org.mapdb.DataInput2;
import org.mapdb.volume.MappedFileVol;
import org.mapdb.volume.Volume;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A MapDB volume whose every {@link #sync()} is an atomic, durable commit, so that a store on it
 * survives a kill at any instant. This class is what MapDB calls; the work is done by its parts.
 *
 * <p>Why: MapDB 3.1's own transactions ({@code StoreWAL}) keep part of a commit only in memory and
 * never replay their log on open, so a kill while a commit is copied into the file leaves a file
 * that does not open. This volume puts MapDB's plain {@code StoreDirect} (no transactions) on a
 * redo journal instead:
 *
 * <ul>
 *   <li>Writes never touch the store file. They go to an in-memory overlay of 4 KiB pages, copied
 *       from the file on first write; reads look in the overlay first ({@link PageOverlay}).
 *   <li>{@link #sync()} (MapDB's {@code commit()}) appends the 64-byte chunks written since the last
 *       sync to the current journal file ({@code <file>.journal.<generation>}) as one record with a
 *       CRC32C, and forces it to disk: one fsync per commit, and a commit counts once that returns
 *       ({@link Journal}).
 *   <li>When the journal or the overlay has grown past a bound, a checkpoint starts: the overlay's
 *       pages are frozen (a later write to one copies it first), later commits go to a new journal
 *       generation, and a background thread writes the frozen pages into the file, forces it, and
 *       only then deletes the old generation. Until then, the old generation holds every change
 *       the file may lack ({@link Checkpointer}).
 *   <li>{@link #open} replays the journals' complete records, oldest generation first, into the
 *       file before MapDB reads it (a record is acknowledged only after it was forced whole, so a
 *       torn last record never was). Replaying a record again is harmless: it writes the same
 *       bytes, and every later record is replayed after it. A journal damaged before its end is
 *       refused rather than replayed: see {@link JournalReplay#replay} for how that is told from a
 *       torn tail.
 * </ul>
 *
 * <p><b>Failures.</b> A failed append is cut back to the last complete record; a failed append,
 * fdatasync or checkpoint then fails the storage for good ({@link StorageFailure}): every later
 * sync throws {@link StorageFailedException}, and nothing is ever synced again after a failed
 * fdatasync (see {@link Journal#append} for why a record whose fdatasync failed may replay,
 * harmlessly). A restart recovers, by replay. A commit too large for one record ({@link
 * JournalOptions#maxRecordBody}) is refused before anything is written, and the volume goes on.
 *
 * <p><b>Files.</b> The store file and journals are created readable by their owner only, and every
 * creation and deletion of one is made durable by forcing the directory. A first start killed at
 * any step leaves files that open as a new store: a file that never saw a commit (empty, or only
 * zeros, with no journal or only a torn one) is one that did not exist.
 *
 * <p>{@link #rollback()} undoes every write since the last sync, from before-images taken on each
 * page's first write since then.
 *
 * <p>Threads: one writer at a time (the mutating methods are synchronized), one checkpoint thread,
 * and reads from any thread without locks, as MapDB's own volumes allow. A page leaves the overlay
 * only after its bytes are in the file.
 */
final class JournaledVolume extends Volume {

  private static final Logger log = LoggerFactory.getLogger(JournaledVolume.class);

  private static final int MAPDB_SLICE_SHIFT = 20;

  private final Path file;
  private final StorageFailure failure;
  private final JournalOptions options;
  private final Volume base;
  /** The store file again, for replay's and the checkpoint's positional writes and fsync. */
  private final FileChannel baseChannel;
  private final boolean existed;
  private final PageOverlay overlay;
  private final Journal journal;
  private final Checkpointer checkpointer;
  /** While set, {@link #sync()} writes nothing: see {@link #deferSyncs}. Writer only. */
  private boolean syncsDeferred;

  private JournaledVolume(
      Path file,
      StorageFailure failure,
      JournalOptions options,
      Volume base,
      FileChannel baseChannel,
      long generation,
      boolean existed)
      throws IOException {
    this.file = file;
    this.failure = failure;
    this.options = options;
    this.base = base;
    this.baseChannel = baseChannel;
    this.existed = existed;
    this.overlay = new PageOverlay(base);
    this.journal = new Journal(file, generation, failure, options);
    this.checkpointer = new Checkpointer(file, baseChannel, journal, overlay, failure, options);
  }

  /** Opens {@code file} with the production options and a failure of its own: for tests. */
  static JournaledVolume open(Path file) {
    return open(file, new StorageFailure(), JournalOptions.DEFAULT);
  }

  /**
   * Opens {@code file} (created if missing, readable by its owner only), and first replays its
   * journals' complete records into it and deletes them.
   *
   * <p>A file that was never committed to (a kill during the very first start: the file empty or
   * all zeros, a journal empty or with a torn first record) opens as new: see {@link #existed()}.
   *
   * @param failure where the volume reports that it failed for good
   * @throws UncheckedIOException if the files cannot be read or written
   * @throws IllegalStateException if a journal is corrupt before its end (see {@link
   *     JournalReplay#replay}), or damaged before a later generation
   * @throws org.mapdb.DBException.FileLocked if another process has the file open
   */
  static JournaledVolume open(Path file, StorageFailure failure, JournalOptions options) {
    try {
      if (OwnerOnly.createFile(file)) {
        options.afterStep().accept("store file created");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("storage-mapdb: cannot create " + file, e);
    }
    Volume base = new MappedFileVol(file.toFile(), false, 0L, MAPDB_SLICE_SHIFT, true, 0L, false);
    FileChannel baseChannel = null;
    try {
      baseChannel = options.files().open(file, Set.of(StandardOpenOption.READ, StandardOpenOption.WRITE));
      long generation = JournalReplay.replayAll(file, base, baseChannel, options);
      boolean existed = base.length() >= 8 && base.getLong(0) != 0;
      return new JournaledVolume(file, failure, options, base, baseChannel, generation, existed);
    } catch (IOException e) {
      base.close();
      closeQuietly(baseChannel);
      throw new UncheckedIOException("storage-mapdb: cannot open the journal of " + file + ": " + e.getMessage(), e);
    } catch (RuntimeException | Error e) {
      base.close();
      closeQuietly(baseChannel);
      throw e;
    }
  }

  /** Whether the file held a store when opened (after replay); a new or never-committed one did not. */
  boolean existed() {
    return existed;
  }

  // ---- commit, checkpoint, rollback

  /**
   * Makes every write since the last sync durable, as one journal record: see {@link
   * Journal#append} for how each failure ends (a commit too large for a record, a failed append, a
   * failed fdatasync). A checkpoint that failed since the last sync is thrown here first, before
   * anything is written. After the record, starts a checkpoint if one is due; if that fails, this
   * commit stands and the next is refused.
   *
   * @throws StorageFailedException if the storage failed (now or before, here or in a
   *     checkpoint): this commit did not happen, and none will
   * @throws RecordTooLargeException if the writes do not fit in one record: nothing written
   */
  @Override
  public synchronized void sync() {
    failure.check();
    if (syncsDeferred) {
      return;
    }
    checkpointer.throwIfFailed(); // before anything is written
    if (!overlay.hasUncommitted()) {
      return;
    }
    journal.append(overlay.uncommitted());
    // Committed: from here on nothing may throw.
    overlay.committed();
    options.afterStep().accept("journal " + journal.generation() + " appended");
    try {
      checkpointer.afterCommit();
    } catch (RuntimeException e) {
      // This commit is durable and stands; the next one is refused.
      failure.fail("cannot checkpoint " + file + " (" + e.getMessage() + ")", e);
    }
  }

  /** Checkpoints everything committed so far, and waits for it. */
  synchronized void checkpoint() {
    checkpointer.awaitRunning();
    beginCheckpoint();
    checkpointer.awaitRunning();
  }

  /** Starts a checkpoint of everything committed so far, unless one is running; does not wait. */
  synchronized void beginCheckpoint() {
    if (overlay.hasUncommitted()) {
      throw new IllegalStateException("checkpoint with uncommitted writes");
    }
    checkpointer.start();
  }

  /**
   * Waits for the running checkpoint, if any, without holding up the writer meanwhile.
   *
   * @throws StorageFailedException if it failed
   */
  void awaitCheckpointDone() {
    Future<?> running;
    synchronized (this) {
      running = checkpointer.running();
    }
    checkpointer.await(running);
  }

  /**
   * What an online backup copies to have the store as it is now: the store file's first
   * {@code fileBytes} and the current journal's first {@code journalBytes}. The file holds
   * everything up to the last checkpoint, the journal every commit since: replaying those records
   * into that file, as {@link #open} does, gives the store as committed now.
   */
  record Snapshot(long fileBytes, Path journal, long journalBytes) {}

  /**
   * For an online backup, between two commits: waits for the running checkpoint (if any), then
   * keeps checkpoints from starting until {@code resumed} completes, so that nothing writes into
   * the store file while the backup copies it, and says what to copy. Commits go on meanwhile,
   * into the journal and the overlay (at {@link Checkpointer#MAX_OVERLAY_PAGES} they wait for
   * {@code resumed}).
   *
   * @param resumed completes normally once the copy is done
   * @throws StorageFailedException if the storage failed
   * @throws IllegalStateException if writes since the last sync are pending
   */
  synchronized Snapshot holdCheckpoints(CompletableFuture<Void> resumed) {
    failure.check();
    if (overlay.hasUncommitted()) {
      throw new IllegalStateException("a backup point with uncommitted writes");
    }
    checkpointer.awaitRunning();
    checkpointer.holdUntil(resumed);
    return new Snapshot(base.length(), journal.currentFile(), journal.size());
  }

  /** Test hook: {@code hook} runs on the checkpoint thread before each checkpoint writes into the file. */
  void beforeCheckpointWrites(Runnable hook) {
    checkpointer.beforeWrites = hook;
  }

  /**
   * While {@code deferred}, syncs (MapDB's commits) write nothing and the writes since the last
   * sync stay pending, so that the next sync after this is called with false commits them all as
   * one record. Creating a store takes several MapDB commits; as one record, a kill during the
   * first start leaves either nothing or the whole store.
   */
  synchronized void deferSyncs(boolean deferred) {
    syncsDeferred = deferred;
  }

  /** Undoes every write since the last sync. */
  synchronized void rollback() {
    overlay.rollback();
  }

  /** Pages in the overlay now, frozen or not, for tests and measurements. */
  synchronized int overlayPageCount() {
    return overlay.size();
  }

  /** Bytes in the current journal now, for tests and measurements. */
  synchronized long journalSize() {
    return journal.size();
  }

  /**
   * Closes without writing what was never synced: a clean close checkpoints what is committed,
   * so that the next open has no journal to replay. A failed storage (or a checkpoint that fails
   * here) only releases the files: its journals stay, and the next open replays them.
   */
  @Override
  public synchronized void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      rollback();
      if (failure.failed() == null) {
        checkpoint();
        journal.delete();
      }
    } catch (StorageFailedException e) {
      log.warn("storage-mapdb: {} closed without a checkpoint; the next start replays its journal", file);
    } catch (IOException e) {
      throw new UncheckedIOException("storage-mapdb: cannot close the journal of " + file, e);
    } finally {
      checkpointer.shutdown();
      journal.closeQuietly();
      // The base channel last: closing a channel drops the process's lock on the file.
      base.close();
      closeQuietly(baseChannel);
    }
  }

  static void closeQuietly(FileChannel channel) {
    if (channel == null) {
      return;
    }
    try {
      channel.close();
    } catch (IOException e) {
      log.warn("Closing a storage file failed", e);
    }
  }

  // ---- writes: into the overlay

  @Override
  public synchronized void putLong(long offset, long value) {
    overlay.putLong(offset, value);
  }

  @Override
  public synchronized void putInt(long offset, int value) {
    overlay.putInt(offset, value);
  }

  @Override
  public synchronized void putByte(long offset, byte value) {
    overlay.putByte(offset, value);
  }

  @Override
  public synchronized void putData(long offset, byte[] src, int srcPos, int srcSize) {
    overlay.putData(offset, src, srcPos, srcSize);
  }

  @Override
  public synchronized void putData(long offset, ByteBuffer buf) {
    byte[] bytes = new byte[buf.remaining()];
    buf.get(bytes);
    overlay.putData(offset, bytes, 0, bytes.length);
  }

  /** Zeroes {@code [startOffset, endOffset)}; pages whose bytes there are zero already stay out of the overlay. */
  @Override
  public synchronized void clear(long startOffset, long endOffset) {
    overlay.clear(startOffset, endOffset);
  }

  /**
   * Grows the file at once (with zeros, beyond anything committed) and the overlay's table.
   *
   * @throws StorageFailedException if the file cannot grow (a full disk): the storage fails for
   *     good, as when the journal cannot be written (see {@link Journal#append})
   */
  @Override
  public synchronized void ensureAvailable(long offset) {
    long before = base.length();
    try {
      base.ensureAvailable(offset);
    } catch (RuntimeException e) {
      // MapDB's volume grows only after the zeros are written: it is as it was.
      throw failure.fail("cannot grow " + file + " (" + (e.getCause() != null ? e.getCause() : e) + ")", e);
    }
    if (base.length() != before) {
      options.afterStep().accept("store file grown");
    }
    overlay.grow(Math.max(offset, base.length()));
  }

  @Override
  public void truncate(long size) {
    // StoreDirect truncates only in compact(), which this plugin never calls.
    throw new UnsupportedOperationException("storage-mapdb: the journaled volume does not shrink");
  }

  // ---- reads: overlay first

  @Override
  public long getLong(long offset) {
    return overlay.getLong(offset);
  }

  @Override
  public int getInt(long offset) {
    return overlay.getInt(offset);
  }

  @Override
  public byte getByte(long offset) {
    return overlay.getByte(offset);
  }

  @Override
  public void getData(long offset, byte[] bytes, int bytesPos, int size) {
    overlay.getData(offset, bytes, bytesPos, size);
  }

  @Override
  public DataInput2 getDataInput(long offset, int size) {
    if (!overlay.overlaid(offset, size)
        && (offset >>> MAPDB_SLICE_SHIFT) == ((offset + size - 1) >>> MAPDB_SLICE_SHIFT)) {
      return base.getDataInput(offset, size);
    }
    byte[] bytes = new byte[size];
    overlay.getData(offset, bytes, 0, size);
    return new DataInput2.ByteArray(bytes);
  }

  @Override
  public DataInput2 getDataInputOverlap(long offset, int size) {
    return getDataInput(offset, size);
  }

  // ---- the rest of Volume

  @Override
  public int sliceSize() {
    return base.sliceSize();
  }

  @Override
  public boolean isSliced() {
    return base.isSliced();
  }

  @Override
  public long length() {
    return base.length();
  }

  @Override
  public boolean isReadOnly() {
    return false;
  }

  @Override
  public File getFile() {
    return base.getFile();
  }

  @Override
  public boolean getFileLocked() {
    return base.getFileLocked();
  }
}
