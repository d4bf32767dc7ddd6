package org.esmp.plugin.storage.mapdb;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.zip.CRC32C;
import org.mapdb.DataIO;
import org.mapdb.DataInput2;
import org.mapdb.volume.MappedFileVol;
import org.mapdb.volume.Volume;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A MapDB volume whose every {@link #sync()} is an atomic, durable commit, so that a store on it
 * survives a kill at any instant.
 *
 * <p>Why: MapDB 3.1's own transactions ({@code StoreWAL}) keep part of a commit only in memory and
 * never replay their log on open, so a kill while a commit is copied into the file leaves a file
 * that does not open. This volume puts MapDB's plain {@code StoreDirect} (no transactions) on a
 * redo journal instead:
 *
 * <ul>
 *   <li>Writes never touch the store file. They go to an in-memory overlay of 4 KiB pages, copied
 *       from the file on first write; reads look in the overlay first.
 *   <li>{@link #sync()} (MapDB's {@code commit()}) appends the 64-byte chunks written since the last
 *       sync to the current journal file ({@code <file>.journal.<generation>}) as one record with a
 *       CRC32C, and forces it to disk: one fsync per commit, and a commit counts once that returns.
 *   <li>When the journal or the overlay has grown past a bound, a checkpoint starts: the overlay's
 *       pages are frozen (a later write to one copies it first), later commits go to a new journal
 *       generation, and a background thread writes the frozen pages into the file, forces it, and
 *       only then deletes the old generation. Until then, the old generation holds every change
 *       the file may lack.
 *   <li>{@link #open} replays the journals' complete records, oldest generation first, into the
 *       file before MapDB reads it (a record is acknowledged only after it was forced whole, so a
 *       torn last record never was). Replaying a record again is harmless: it writes the same
 *       bytes, and every later record is replayed after it.
 * </ul>
 *
 * <p>{@link #rollback()} undoes every write since the last sync, from before-images taken on each
 * page's first write in the transaction.
 *
 * <p>Threads: one writer at a time (the mutating methods are synchronized), one checkpoint thread,
 * and reads from any thread without locks, as MapDB's own volumes allow. A page leaves the overlay
 * only after its bytes are in the file.
 */
final class JournaledVolume extends Volume {

  private static final Logger log = LoggerFactory.getLogger(JournaledVolume.class);

  static final int PAGE_SHIFT = 12;
  static final int PAGE_SIZE = 1 << PAGE_SHIFT;
  private static final int PAGE_MASK = PAGE_SIZE - 1;
  /** Journal granularity: a page's 64 chunks of 64 bytes map onto one long of dirty bits. */
  static final int CHUNK_SHIFT = 6;
  static final int CHUNK_SIZE = 1 << CHUNK_SHIFT;

  static final int RECORD_MAGIC = 0x45534a31; // "ESJ1"
  /** magic, body length, sequence number. */
  static final int RECORD_HEADER = 4 + 4 + 8;
  private static final int MAX_RECORD_BODY = 1 << 30;

  static final String CHECKPOINT_PROPERTY = "esmp.storage-mapdb.checkpoint-bytes";
  /**
   * A checkpoint starts once the journal holds this many bytes (64 MiB; the system property
   * {@value #CHECKPOINT_PROPERTY} sets another, e.g. so that crash tests kill checkpoints too)...
   */
  static final long CHECKPOINT_JOURNAL_BYTES = Long.getLong(CHECKPOINT_PROPERTY, 64L << 20);
  /** ...or the overlay this many pages (64 MiB). */
  static final int CHECKPOINT_PAGES = 16_384;
  /** Commits wait for a running checkpoint once the overlay has this many pages (256 MiB). */
  static final int MAX_OVERLAY_PAGES = 4 * CHECKPOINT_PAGES;

  private static final int MAPDB_SLICE_SHIFT = 20;
  private static final String JOURNAL_INFIX = ".journal.";

  private final Path file;
  private final Volume base;
  /** The store file again, for the checkpoint's positional writes and fsync. */
  private final FileChannel baseChannel;
  private final boolean existed;
  private final ExecutorService checkpointer;

  /** Overlay pages by page number; null where the file's bytes are current. */
  private volatile AtomicReferenceArray<Page> overlay;
  /** Guards replacing {@link #overlay} by a larger table against the checkpoint's removals. */
  private final Object tableLock = new Object();
  /** The pages written since the last checkpoint started. Writer only. */
  private List<Page> overlayPages = new ArrayList<>();
  /** Pages written since the last sync, with their dirty chunks. Writer only. */
  private final List<Page> dirty = new ArrayList<>();
  /** Before-images of the pages written since the last sync; null for pages new to the overlay. */
  private final Map<Page, byte[]> undo = new HashMap<>();

  private FileChannel journal;
  private long generation;
  private long journalSize;
  private long nextSeq = 1;
  private Future<?> checkpoint = CompletableFuture.completedFuture(null);
  private ByteBuffer recordBuffer = ByteBuffer.allocateDirect(1 << 20);
  private final byte[] zeroCheck = new byte[PAGE_SIZE];
  private final CRC32C crc = new CRC32C();
  /** Test hook: runs on the checkpoint thread before it writes into the file. */
  volatile Runnable beforeCheckpointWrites = () -> {};

  private JournaledVolume(Path file, Volume base, FileChannel baseChannel, long generation, boolean existed)
      throws IOException {
    this.file = file;
    this.base = base;
    this.baseChannel = baseChannel;
    this.existed = existed;
    this.overlay = new AtomicReferenceArray<>(pageCount(base.length()));
    this.generation = generation;
    this.journal = createJournal(generation);
    this.checkpointer =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread thread = new Thread(r, "storage-mapdb-checkpoint");
              thread.setDaemon(true);
              return thread;
            });
  }

  /** One page of the overlay. */
  private static final class Page {
    final long number;
    final byte[] bytes;
    /** Chunks written since the last sync, bit i for bytes [64 i, 64 i + 64). Writer only. */
    long dirtyChunks;
    /** Being written into the file by a checkpoint: its bytes do not change any more. */
    boolean frozen;

    Page(long number, byte[] bytes) {
      this.number = number;
      this.bytes = bytes;
    }
  }

  /**
   * Opens {@code file} (created if missing), and first replays its journals' complete records into
   * it and deletes them.
   *
   * @throws UncheckedIOException if the files cannot be read or written
   * @throws IllegalStateException if a journal is damaged before a later generation
   * @throws org.mapdb.DBException.FileLocked if another process has the file open
   */
  static JournaledVolume open(Path file) {
    Volume base = new MappedFileVol(file.toFile(), false, 0L, MAPDB_SLICE_SHIFT, true, 0L, false);
    FileChannel baseChannel = null;
    try {
      baseChannel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
      List<Path> journals = journalsOf(file);
      int replayed = 0;
      for (int i = 0; i < journals.size(); i++) {
        Replay replay = replay(journals.get(i), base);
        replayed += replay.records();
        if (replay.torn() && i < journals.size() - 1) {
          throw new IllegalStateException(
              "storage-mapdb: " + journals.get(i) + " is damaged, and a later journal exists: refusing to go on");
        }
      }
      if (replayed > 0) {
        base.sync();
        log.info("Replayed {} committed changes from {} journal(s) into {}", replayed, journals.size(), file);
      }
      for (Path journal : journals) {
        Files.delete(journal);
      }
      if (!journals.isEmpty()) {
        syncDirectory(file); // see writeCheckpoint
      }
      long generation = journals.isEmpty() ? 1 : generationOf(journals.get(journals.size() - 1)) + 1;
      boolean existed = base.length() >= 8 && base.getLong(0) != 0;
      return new JournaledVolume(file, base, baseChannel, generation, existed);
    } catch (IOException e) {
      base.close();
      closeQuietly(baseChannel);
      throw new UncheckedIOException("storage-mapdb: cannot open the journal of " + file, e);
    } catch (RuntimeException | Error e) {
      base.close();
      closeQuietly(baseChannel);
      throw e;
    }
  }

  /** The journal files of {@code file}, oldest generation first. */
  static List<Path> journalsOf(Path file) throws IOException {
    String prefix = file.getFileName() + JOURNAL_INFIX;
    List<Path> journals = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(file.toAbsolutePath().getParent(), prefix + "*")) {
      for (Path entry : entries) {
        String suffix = entry.getFileName().toString().substring(prefix.length());
        if (!suffix.isEmpty() && suffix.chars().allMatch(Character::isDigit)) {
          journals.add(entry);
        }
      }
    }
    journals.sort(Comparator.comparingLong(JournaledVolume::generationOf));
    return journals;
  }

  private static long generationOf(Path journal) {
    String name = journal.getFileName().toString();
    return Long.parseLong(name.substring(name.lastIndexOf('.') + 1));
  }

  private Path journalPath(long generation) {
    return file.resolveSibling(file.getFileName() + JOURNAL_INFIX + generation);
  }

  /** Creates the journal of {@code generation}, durably: its name too is on disk when this returns. */
  private FileChannel createJournal(long generation) throws IOException {
    FileChannel channel =
        FileChannel.open(journalPath(generation), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    syncDirectory(file);
    return channel;
  }

  /** Forces the directory of {@code file}, so that files created in it survive a power loss. */
  private static void syncDirectory(Path file) throws IOException {
    try (FileChannel directory = FileChannel.open(file.toAbsolutePath().getParent(), StandardOpenOption.READ)) {
      directory.force(true);
    }
  }

  /** Whether the file held a store when opened (after replay); a new or never-committed one did not. */
  boolean existed() {
    return existed;
  }

  /** What replaying one journal found. */
  record Replay(int records, boolean torn) {}

  /**
   * Applies {@code journalFile}'s records, in order, to {@code base}; stops at the first record
   * that is short, fails its checksum or does not follow its predecessor's sequence number.
   */
  static Replay replay(Path journalFile, Volume base) throws IOException {
    try (FileChannel journal = FileChannel.open(journalFile, StandardOpenOption.READ)) {
      long size = journal.size();
      long position = 0;
      long expectedSeq = 1;
      int applied = 0;
      ByteBuffer header = ByteBuffer.allocate(RECORD_HEADER);
      CRC32C crc = new CRC32C();
      while (position + RECORD_HEADER + 4 <= size) {
        header.clear();
        readFully(journal, header, position);
        header.flip();
        int magic = header.getInt();
        int bodyLength = header.getInt();
        long seq = header.getLong();
        if (magic != RECORD_MAGIC
            || bodyLength < 0
            || bodyLength > MAX_RECORD_BODY
            || position + RECORD_HEADER + bodyLength + 4 > size
            || seq != expectedSeq) {
          break;
        }
        ByteBuffer body = ByteBuffer.allocate(bodyLength + 4);
        readFully(journal, body, position + RECORD_HEADER);
        crc.reset();
        header.flip();
        crc.update(header);
        crc.update(body.array(), 0, bodyLength);
        if ((int) crc.getValue() != body.getInt(bodyLength)) {
          break;
        }
        body.limit(bodyLength).position(0);
        applyRecordBody(body, base);
        applied++;
        expectedSeq = seq + 1;
        position += RECORD_HEADER + bodyLength + 4;
      }
      if (position < size) {
        log.info(
            "{}: {} bytes after the last complete record ignored (a commit that never finished)",
            journalFile,
            size - position);
      }
      return new Replay(applied, position < size);
    }
  }

  private static void applyRecordBody(ByteBuffer body, Volume base) {
    byte[] chunk = new byte[CHUNK_SIZE];
    while (body.hasRemaining()) {
      long pageNumber = body.getLong();
      long chunks = body.getLong();
      long pageStart = pageNumber << PAGE_SHIFT;
      base.ensureAvailable(pageStart + PAGE_SIZE);
      for (long bits = chunks; bits != 0; bits &= bits - 1) {
        int index = Long.numberOfTrailingZeros(bits);
        body.get(chunk);
        base.putData(pageStart + ((long) index << CHUNK_SHIFT), chunk, 0, CHUNK_SIZE);
      }
    }
  }

  private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
    while (buffer.hasRemaining()) {
      int n = channel.read(buffer, position);
      if (n < 0) {
        throw new IOException("journal ended early");
      }
      position += n;
    }
  }

  private static int pageCount(long length) {
    long pages = (length + PAGE_MASK) >>> PAGE_SHIFT;
    if (pages > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException("store file too large: " + length);
    }
    return (int) pages;
  }

  // ---- commit, checkpoint, rollback

  /**
   * Makes every write since the last sync durable, as one journal record.
   *
   * @throws IllegalStateException if a checkpoint failed: nothing more is committed (what was is
   *     in the journals, and the next open replays them)
   * @throws UncheckedIOException if the journal cannot be written: this commit did not happen
   */
  @Override
  public synchronized void sync() {
    if (checkpoint.isDone()) {
      awaitCheckpoint(); // throws if it failed, before anything is written
    }
    if (dirty.isEmpty()) {
      return;
    }
    int bodyLength = 0;
    for (Page page : dirty) {
      bodyLength += 16 + Long.bitCount(page.dirtyChunks) * CHUNK_SIZE;
    }
    int recordLength = RECORD_HEADER + bodyLength + 4;
    if (recordBuffer.capacity() < recordLength) {
      recordBuffer = ByteBuffer.allocateDirect(Math.max(recordLength, recordBuffer.capacity() * 2));
    }
    ByteBuffer record = recordBuffer;
    record.clear();
    record.putInt(RECORD_MAGIC).putInt(bodyLength).putLong(nextSeq);
    for (Page page : dirty) {
      record.putLong(page.number).putLong(page.dirtyChunks);
      for (long bits = page.dirtyChunks; bits != 0; bits &= bits - 1) {
        int index = Long.numberOfTrailingZeros(bits);
        record.put(page.bytes, index << CHUNK_SHIFT, CHUNK_SIZE);
      }
    }
    record.flip();
    crc.reset();
    crc.update(record.duplicate());
    record.limit(recordLength);
    record.position(recordLength - 4);
    record.putInt((int) crc.getValue());
    record.flip();
    try {
      long position = journalSize;
      while (record.hasRemaining()) {
        position += journal.write(record, position);
      }
      journal.force(false);
    } catch (IOException e) {
      // Not committed: the caller rolls back.
      throw new UncheckedIOException("storage-mapdb: cannot write the journal of " + file, e);
    }
    // Committed: from here on nothing may throw.
    journalSize += recordLength;
    nextSeq++;
    for (Page page : dirty) {
      page.dirtyChunks = 0;
    }
    dirty.clear();
    undo.clear();
    if (journalSize >= CHECKPOINT_JOURNAL_BYTES || overlayPages.size() >= CHECKPOINT_PAGES) {
      try {
        if (overlayPages.size() >= MAX_OVERLAY_PAGES) {
          awaitCheckpoint(); // the disk is slower than the commits: let the commits wait
        }
        startCheckpoint();
      } catch (RuntimeException e) {
        log.error("storage-mapdb: cannot checkpoint {}; the next commit fails", file, e);
      }
    }
  }

  /**
   * Moves later commits to a new journal generation, freezes the overlay's pages and has the
   * checkpoint thread write them into the file. Does nothing while the previous checkpoint still
   * runs (the next sync tries again). Only committed bytes are in the overlay when this runs: it
   * follows a sync.
   */
  private void startCheckpoint() {
    if (!checkpoint.isDone()) {
      return;
    }
    awaitCheckpoint(); // rethrows its failure, if it failed
    if (overlayPages.isEmpty()) {
      return;
    }
    FileChannel newJournal;
    try {
      newJournal = createJournal(generation + 1);
    } catch (IOException e) {
      throw new UncheckedIOException("storage-mapdb: cannot start a journal for " + file, e);
    }
    FileChannel oldJournal = journal;
    long oldGeneration = generation;
    journal = newJournal;
    generation++;
    journalSize = 0;
    nextSeq = 1;
    List<Page> frozen = overlayPages;
    overlayPages = new ArrayList<>();
    for (Page page : frozen) {
      page.frozen = true;
    }
    checkpoint = checkpointer.submit(() -> writeCheckpoint(frozen, oldJournal, oldGeneration));
  }

  /** Checkpoint thread: writes {@code frozen} into the file, forces it, then drops the old journal. */
  private void writeCheckpoint(List<Page> frozen, FileChannel oldJournal, long oldGeneration) {
    beforeCheckpointWrites.run();
    long started = System.nanoTime();
    try {
      frozen.sort(Comparator.comparingLong(page -> page.number));
      for (Page page : frozen) {
        ByteBuffer bytes = ByteBuffer.wrap(page.bytes);
        long position = page.number << PAGE_SHIFT;
        while (bytes.hasRemaining()) {
          position += baseChannel.write(bytes, position);
        }
      }
      baseChannel.force(false);
      oldJournal.close();
      Files.delete(journalPath(oldGeneration));
      // Durably gone: a journal that came back after a power loss would replay old bytes over
      // newer checkpoints.
      syncDirectory(file);
    } catch (IOException e) {
      // The old journal stays: the next open replays it. Commits fail from now on (see
      // startCheckpoint), so nothing is acknowledged that could not be checkpointed.
      throw new UncheckedIOException("storage-mapdb: checkpoint of " + file + " failed", e);
    }
    synchronized (tableLock) {
      AtomicReferenceArray<Page> table = overlay;
      for (Page page : frozen) {
        // After the file has the bytes: a reader that finds no page reads them there. A page
        // written since was copied, and its copy stays.
        table.compareAndSet((int) page.number, page, null);
      }
    }
    log.debug(
        "Checkpoint of {}: {} pages in {} ms", file, frozen.size(), (System.nanoTime() - started) / 1_000_000);
  }

  private void awaitCheckpoint() {
    await(checkpoint);
  }

  private static void await(Future<?> checkpoint) {
    try {
      checkpoint.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted waiting for a checkpoint", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("storage-mapdb: a checkpoint failed; restart to replay the journal", e.getCause());
    }
  }

  /** Checkpoints everything committed so far, and waits for it. */
  synchronized void checkpoint() {
    awaitCheckpoint();
    beginCheckpoint();
    awaitCheckpoint();
  }

  /** Starts a checkpoint of everything committed so far, unless one is running; does not wait. */
  synchronized void beginCheckpoint() {
    if (!dirty.isEmpty()) {
      throw new IllegalStateException("checkpoint with uncommitted writes");
    }
    startCheckpoint();
  }

  /** Waits for the running checkpoint, if any, without holding up the writer meanwhile. */
  void awaitCheckpointDone() {
    Future<?> running;
    synchronized (this) {
      running = checkpoint;
    }
    await(running);
  }

  /** Undoes every write since the last sync. */
  synchronized void rollback() {
    AtomicReferenceArray<Page> table = overlay;
    for (Map.Entry<Page, byte[]> e : undo.entrySet()) {
      Page page = e.getKey();
      if (e.getValue() == null) {
        table.set((int) page.number, null);
        overlayPages.remove(page);
      } else {
        System.arraycopy(e.getValue(), 0, page.bytes, 0, PAGE_SIZE);
      }
      page.dirtyChunks = 0;
    }
    undo.clear();
    dirty.clear();
  }

  /** Pages in the overlay now, frozen or not, for tests and measurements. */
  synchronized int overlayPageCount() {
    AtomicReferenceArray<Page> table = overlay;
    int count = 0;
    for (int i = 0; i < table.length(); i++) {
      if (table.get(i) != null) {
        count++;
      }
    }
    return count;
  }

  /** Bytes in the current journal now, for tests and measurements. */
  synchronized long journalSize() {
    return journalSize;
  }

  /**
   * Closes without writing what was never synced: a clean close checkpoints what is committed,
   * so that the next open has no journal to replay.
   */
  @Override
  public synchronized void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      rollback();
      checkpoint();
      journal.close();
      Files.delete(journalPath(generation));
    } catch (IOException e) {
      throw new UncheckedIOException("storage-mapdb: cannot close the journal of " + file, e);
    } finally {
      checkpointer.shutdown();
      closeQuietly(journal);
      // The base channel last: closing a channel drops the process's lock on the file.
      base.close();
      closeQuietly(baseChannel);
    }
  }

  private static void closeQuietly(FileChannel channel) {
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

  /** The overlay page {@code number}, made ready for a write of {@code [from, to)} in it. */
  private Page writable(long number, int from, int to) {
    AtomicReferenceArray<Page> table = overlay;
    if (number >= table.length()) {
      throw new IllegalStateException("write beyond the allocated volume at page " + number);
    }
    Page page = table.get((int) number);
    if (page == null) {
      byte[] bytes = new byte[PAGE_SIZE];
      base.getData(number << PAGE_SHIFT, bytes, 0, PAGE_SIZE);
      page = new Page(number, bytes);
      undo.put(page, null);
      overlayPages.add(page);
      table.set((int) number, page);
    } else if (page.frozen) {
      // Being checkpointed: write into a copy, which the checkpoint leaves in the overlay.
      Page copy = new Page(number, page.bytes.clone());
      undo.put(copy, page.bytes);
      overlayPages.add(copy);
      table.set((int) number, copy);
      page = copy;
    } else if (page.dirtyChunks == 0 && !undo.containsKey(page)) {
      undo.put(page, page.bytes.clone());
    }
    if (page.dirtyChunks == 0) {
      dirty.add(page);
    }
    long first = from >>> CHUNK_SHIFT;
    long last = (to - 1) >>> CHUNK_SHIFT;
    long bits = last == 63 ? -1L << first : ((1L << (last + 1)) - 1) & (-1L << first);
    page.dirtyChunks |= bits;
    return page;
  }

  @Override
  public synchronized void putLong(long offset, long value) {
    int at = (int) (offset & PAGE_MASK);
    if (at <= PAGE_SIZE - 8) {
      DataIO.putLong(writable(offset >>> PAGE_SHIFT, at, at + 8).bytes, at, value);
    } else {
      byte[] b = new byte[8];
      DataIO.putLong(b, 0, value);
      putData(offset, b, 0, 8);
    }
  }

  @Override
  public synchronized void putInt(long offset, int value) {
    int at = (int) (offset & PAGE_MASK);
    if (at <= PAGE_SIZE - 4) {
      DataIO.putInt(writable(offset >>> PAGE_SHIFT, at, at + 4).bytes, at, value);
    } else {
      byte[] b = new byte[4];
      DataIO.putInt(b, 0, value);
      putData(offset, b, 0, 4);
    }
  }

  @Override
  public synchronized void putByte(long offset, byte value) {
    int at = (int) (offset & PAGE_MASK);
    writable(offset >>> PAGE_SHIFT, at, at + 1).bytes[at] = value;
  }

  @Override
  public synchronized void putData(long offset, byte[] src, int srcPos, int srcSize) {
    while (srcSize > 0) {
      int at = (int) (offset & PAGE_MASK);
      int n = Math.min(srcSize, PAGE_SIZE - at);
      System.arraycopy(src, srcPos, writable(offset >>> PAGE_SHIFT, at, at + n).bytes, at, n);
      offset += n;
      srcPos += n;
      srcSize -= n;
    }
  }

  @Override
  public synchronized void putData(long offset, ByteBuffer buf) {
    byte[] bytes = new byte[buf.remaining()];
    buf.get(bytes);
    putData(offset, bytes, 0, bytes.length);
  }

  /** Zeroes {@code [startOffset, endOffset)}; pages whose bytes there are zero already stay out of the overlay. */
  @Override
  public synchronized void clear(long startOffset, long endOffset) {
    long offset = startOffset;
    while (offset < endOffset) {
      long number = offset >>> PAGE_SHIFT;
      int at = (int) (offset & PAGE_MASK);
      int n = (int) Math.min(endOffset - offset, PAGE_SIZE - at);
      if (overlay.get((int) number) != null || !baseIsZero(offset, n)) {
        java.util.Arrays.fill(writable(number, at, at + n).bytes, at, at + n, (byte) 0);
      }
      offset += n;
    }
  }

  private boolean baseIsZero(long offset, int length) {
    base.getData(offset, zeroCheck, 0, length);
    for (int i = 0; i < length; i++) {
      if (zeroCheck[i] != 0) {
        return false;
      }
    }
    return true;
  }

  /** Grows the file at once (with zeros, beyond anything committed) and the overlay's table. */
  @Override
  public synchronized void ensureAvailable(long offset) {
    base.ensureAvailable(offset);
    int pages = pageCount(Math.max(offset, base.length()));
    synchronized (tableLock) {
      AtomicReferenceArray<Page> table = overlay;
      if (pages > table.length()) {
        AtomicReferenceArray<Page> grown =
            new AtomicReferenceArray<>(Math.max(pages, table.length() + table.length() / 2));
        for (int i = 0; i < table.length(); i++) {
          grown.set(i, table.get(i));
        }
        overlay = grown;
      }
    }
  }

  @Override
  public void truncate(long size) {
    // StoreDirect truncates only in compact(), which this plugin never calls.
    throw new UnsupportedOperationException("storage-mapdb: the journaled volume does not shrink");
  }

  // ---- reads: overlay first

  private Page page(long offset) {
    AtomicReferenceArray<Page> table = overlay;
    long number = offset >>> PAGE_SHIFT;
    return number < table.length() ? table.get((int) number) : null;
  }

  @Override
  public long getLong(long offset) {
    int at = (int) (offset & PAGE_MASK);
    if (at > PAGE_SIZE - 8) {
      byte[] b = new byte[8];
      getData(offset, b, 0, 8);
      return DataIO.getLong(b, 0);
    }
    Page page = page(offset);
    return page == null ? base.getLong(offset) : DataIO.getLong(page.bytes, at);
  }

  @Override
  public int getInt(long offset) {
    int at = (int) (offset & PAGE_MASK);
    if (at > PAGE_SIZE - 4) {
      byte[] b = new byte[4];
      getData(offset, b, 0, 4);
      return DataIO.getInt(b, 0);
    }
    Page page = page(offset);
    return page == null ? base.getInt(offset) : DataIO.getInt(page.bytes, at);
  }

  @Override
  public byte getByte(long offset) {
    Page page = page(offset);
    return page == null ? base.getByte(offset) : page.bytes[(int) (offset & PAGE_MASK)];
  }

  @Override
  public void getData(long offset, byte[] bytes, int bytesPos, int size) {
    while (size > 0) {
      int at = (int) (offset & PAGE_MASK);
      int n = Math.min(size, PAGE_SIZE - at);
      Page page = page(offset);
      if (page == null) {
        base.getData(offset, bytes, bytesPos, n);
      } else {
        System.arraycopy(page.bytes, at, bytes, bytesPos, n);
      }
      offset += n;
      bytesPos += n;
      size -= n;
    }
  }

  @Override
  public DataInput2 getDataInput(long offset, int size) {
    if (!overlaid(offset, size) && (offset >>> MAPDB_SLICE_SHIFT) == ((offset + size - 1) >>> MAPDB_SLICE_SHIFT)) {
      return base.getDataInput(offset, size);
    }
    byte[] bytes = new byte[size];
    getData(offset, bytes, 0, size);
    return new DataInput2.ByteArray(bytes);
  }

  @Override
  public DataInput2 getDataInputOverlap(long offset, int size) {
    return getDataInput(offset, size);
  }

  private boolean overlaid(long offset, int size) {
    AtomicReferenceArray<Page> table = overlay;
    long last = (offset + Math.max(size, 1) - 1) >>> PAGE_SHIFT;
    for (long number = offset >>> PAGE_SHIFT; number <= last; number++) {
      if (number < table.length() && table.get((int) number) != null) {
        return true;
      }
    }
    return false;
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
