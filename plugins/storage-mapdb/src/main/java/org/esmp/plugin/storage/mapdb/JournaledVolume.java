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
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.zip.CRC32C;
import org.esmp.api.StorageFailedException;
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
 *       bytes, and every later record is replayed after it. A journal damaged before its end is
 *       refused rather than replayed: see {@link #replay} for how that is told from a torn tail.
 * </ul>
 *
 * <p><b>Failures.</b> A failed append is cut back to the last complete record; a failed append,
 * fdatasync or checkpoint then fails the storage for good ({@link StorageFailure}): every later
 * sync throws {@link StorageFailedException}, and nothing is ever synced again after a failed
 * fdatasync (see {@link #sync()} for why a record whose fdatasync failed may replay, harmlessly).
 * A restart recovers, by replay. A commit too large for one record ({@link
 * JournalOptions#maxRecordBody}) is refused before anything is written, and the volume goes on.
 *
 * <p><b>Files.</b> The store file and journals are created readable by their owner only, and every
 * creation and deletion of one is made durable by forcing the directory. A first start killed at
 * any step leaves files that open as a new store: a file that never saw a commit (empty, or only
 * zeros, with no journal or only a torn one) is one that did not exist.
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
  private final StorageFailure failure;
  private final JournalOptions options;
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
  private final ByteBuffer recordBuffer = ByteBuffer.allocateDirect(1 << 20);
  private final byte[] zeroCheck = new byte[PAGE_SIZE];
  private final CRC32C crc = new CRC32C();
  /** While set, {@link #sync()} writes nothing: see {@link #deferSyncs}. Writer only. */
  private boolean syncsDeferred;
  /** Test hook: runs on the checkpoint thread before it writes into the file. */
  volatile Runnable beforeCheckpointWrites = () -> {};

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
   * @throws IllegalStateException if a journal is corrupt before its end (see {@link #replay}), or
   *     damaged before a later generation
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
      List<Path> journals = journalsOf(file);
      int replayed = 0;
      for (int i = 0; i < journals.size(); i++) {
        Replay replay = replay(journals.get(i), base, baseChannel, options.maxRecordBody());
        replayed += replay.records();
        if (replay.tornAt() >= 0 && i < journals.size() - 1) {
          String problem =
              "storage-mapdb: "
                  + journals.get(i)
                  + " is damaged at byte "
                  + replay.tornAt()
                  + ", and a later journal exists: refusing to go on";
          log.error(problem);
          throw new IllegalStateException(problem);
        }
      }
      if (replayed > 0) {
        baseChannel.force(false);
        log.info("Replayed {} committed changes from {} journal(s) into {}", replayed, journals.size(), file);
      }
      for (Path journal : journals) {
        Files.delete(journal);
      }
      if (!journals.isEmpty()) {
        syncDirectory(file); // see writeCheckpoint
        options.afterStep().accept("journals replayed and deleted");
      }
      long generation = journals.isEmpty() ? 1 : generationOf(journals.get(journals.size() - 1)) + 1;
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
        options
            .files()
            .open(
                journalPath(generation),
                Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                OwnerOnly.fileAttributes(file.toAbsolutePath().getParent()));
    syncDirectory(file);
    options.afterStep().accept("journal " + generation + " created");
    return channel;
  }

  /** Forces the directory of {@code file}, so that files created in it survive a power loss. */
  private static void syncDirectory(Path file) throws IOException {
    OwnerOnly.syncDirectory(file.toAbsolutePath().getParent());
  }

  /** Whether the file held a store when opened (after replay); a new or never-committed one did not. */
  boolean existed() {
    return existed;
  }

  /**
   * What replaying one journal found: how many records it applied, and where its torn tail starts
   * (-1 if it had none).
   */
  record Replay(int records, long tornAt) {}

  /**
   * Applies {@code journalFile}'s records, in order, to the store file through {@code baseChannel}
   * (positional writes, not the mmap: on a full disk a write into a hole of a mapped file is a
   * SIGBUS, a channel's write is an {@link IOException}).
   *
   * <p>Replay stops at the first record that is not valid: short (the file ends inside it), with a
   * bad magic number or length, a sequence number that does not follow its predecessor's, or a bad
   * CRC. What follows is then one of two things:
   *
   * <ul>
   *   <li><b>A torn tail</b>, expected after a kill or a power loss: the record being appended when
   *       the process died, which was never acknowledged (an acknowledgement follows the record's
   *       fdatasync). Dropped, with an INFO line.
   *   <li><b>Corruption before the end</b>, when somewhere after the invalid record's first byte
   *       the file holds a valid record (the magic number, a length that fits in the file, a
   *       sequence number above the last one applied, and a matching CRC). Refused, naming the
   *       file and the byte offset: the journal was damaged after it was written, and replaying
   *       past the damage or dropping what follows it could both lose acknowledged changes.
   * </ul>
   *
   * <p>Why this is sound: a record is appended only after the previous one's fdatasync returned,
   * so a record that follows an invalid one was written after that one was whole on disk. A failed
   * append is cut back to the last complete record, and a failed fdatasync stops the storage, so no
   * record is ever written after one that may be incomplete (see {@link #sync()}). Journals are
   * new files (never reused or preallocated), so the bytes after the last record are only what an
   * unfinished append left: part of one record, or zeros where its pages never reached the disk.
   *
   * @throws IllegalStateException if the journal is corrupt before its end (also logged at ERROR)
   */
  static Replay replay(Path journalFile, Volume base, FileChannel baseChannel, long maxRecordBody)
      throws IOException {
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
            || bodyLength > maxRecordBody
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
        applyRecordBody(body, base, baseChannel);
        applied++;
        expectedSeq = seq + 1;
        position += RECORD_HEADER + bodyLength + 4;
      }
      if (position == size) {
        return new Replay(applied, -1);
      }
      long valid = validRecordAfter(journal, position, size, expectedSeq - 1, maxRecordBody);
      if (valid >= 0) {
        String problem =
            "storage-mapdb: "
                + journalFile
                + " is corrupt at byte "
                + position
                + ": the record there is damaged, but a valid record follows at byte "
                + valid
                + "; refusing to start (the journal was damaged after it was written)";
        log.error(problem);
        throw new IllegalStateException(problem);
      }
      log.info(
          "{}: a torn tail of {} bytes at byte {} dropped (a commit that never finished, never acknowledged)",
          journalFile,
          size - position,
          position);
      return new Replay(applied, position);
    }
  }

  /**
   * The offset of the first valid record in {@code (from, size)} with a sequence number above
   * {@code lastSeq}, or -1. Runs once per open, and only over a journal's tail.
   */
  private static long validRecordAfter(FileChannel journal, long from, long size, long lastSeq, long maxRecordBody)
      throws IOException {
    long length = size - from;
    if (length > Integer.MAX_VALUE - 8) {
      length = Integer.MAX_VALUE - 8; // larger than any journal: journals roll at checkpoints
    }
    ByteBuffer tail = ByteBuffer.allocate((int) length);
    readFully(journal, tail, from);
    tail.flip();
    CRC32C crc = new CRC32C();
    for (int at = 1; at + RECORD_HEADER + 4 <= tail.limit(); at++) {
      if (tail.getInt(at) != RECORD_MAGIC) {
        continue;
      }
      int bodyLength = tail.getInt(at + 4);
      long seq = tail.getLong(at + 8);
      if (bodyLength < 0 || bodyLength > maxRecordBody || seq <= lastSeq) {
        continue;
      }
      long end = (long) at + RECORD_HEADER + bodyLength + 4;
      if (end > tail.limit()) {
        continue;
      }
      crc.reset();
      crc.update(tail.slice(at, RECORD_HEADER + bodyLength));
      if ((int) crc.getValue() == tail.getInt((int) end - 4)) {
        return from + at;
      }
    }
    return -1;
  }

  private static void applyRecordBody(ByteBuffer body, Volume base, FileChannel baseChannel) throws IOException {
    while (body.hasRemaining()) {
      long pageNumber = body.getLong();
      long chunks = body.getLong();
      long pageStart = pageNumber << PAGE_SHIFT;
      // Grows the file first, writing zeros (MapDB's volume writes them through a RandomAccessFile,
      // so a full disk is an exception here too), and maps the new part for later reads.
      base.ensureAvailable(pageStart + PAGE_SIZE);
      // One write per run of adjacent chunks: their bytes are adjacent in the record too.
      long bits = chunks;
      while (bits != 0) {
        int first = Long.numberOfTrailingZeros(bits);
        int run = Long.numberOfTrailingZeros(~(bits >>> first)); // the set bits from first on
        int length = run << CHUNK_SHIFT;
        ByteBuffer bytes = body.slice(body.position(), length);
        body.position(body.position() + length);
        writeFully(baseChannel, bytes, pageStart + ((long) first << CHUNK_SHIFT));
        bits = run == 64 ? 0 : bits & ~(((1L << run) - 1) << first);
      }
    }
  }

  /** Writes all of {@code buffer} at {@code position}; the position after it. */
  private static long writeFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
    while (buffer.hasRemaining()) {
      position += channel.write(buffer, position);
    }
    return position;
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
   * <p>How a failure ends:
   *
   * <ul>
   *   <li>The writes do not fit in one record ({@link JournalOptions#maxRecordBody}): nothing is
   *       written, {@link RecordTooLargeException}, and the volume goes on (the caller rolls back).
   *   <li>The append fails (ENOSPC, EIO): the journal is cut back to its size before the append
   *       (truncated and forced: that fdatasync follows a failed write, not a failed fdatasync) so
   *       that it ends with its last complete record, and the storage fails for good. It would
   *       otherwise answer every message {@code internal} while looking alive; a restart is what
   *       recovers (after the disk was given room), and replay finds a journal that ends cleanly.
   *   <li>The fdatasync fails: the storage fails for good, without a retry. Whether the record
   *       reached the disk is unknown, and a later fdatasync can succeed without having written it
   *       (the kernel may have dropped the dirty pages with the error: PostgreSQL's "fsyncgate").
   *       The record was not acknowledged, and since nothing is committed after it, nothing that
   *       depends on it is acknowledged either. Replay at the next start may find it whole and
   *       apply it: a change that was never acknowledged is then stored. That is acceptable: its
   *       sender got {@code internal} (or nothing) and resends, and the resend is answered from the
   *       stored accepted record as a duplicate, so the message is still stored exactly once.
   * </ul>
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
    if (checkpoint.isDone()) {
      awaitCheckpoint(); // throws if it failed, before anything is written
    }
    if (dirty.isEmpty()) {
      return;
    }
    long bodyLength = 0;
    for (Page page : dirty) {
      bodyLength += 16 + Long.bitCount(page.dirtyChunks) * CHUNK_SIZE;
    }
    if (bodyLength > options.maxRecordBody()) {
      throw new RecordTooLargeException(
          "storage-mapdb: a commit of "
              + bodyLength
              + " bytes does not fit in one journal record (at most "
              + options.maxRecordBody()
              + ")");
    }
    int recordLength = (int) (RECORD_HEADER + bodyLength + 4);
    // Streamed through one buffer of fixed size: a record of any size holds no more direct memory.
    ByteBuffer buffer = recordBuffer;
    buffer.clear();
    crc.reset();
    long position = journalSize;
    try {
      buffer.putInt(RECORD_MAGIC).putInt((int) bodyLength).putLong(nextSeq);
      for (Page page : dirty) {
        position = makeRoom(buffer, 16, position);
        buffer.putLong(page.number).putLong(page.dirtyChunks);
        for (long bits = page.dirtyChunks; bits != 0; bits &= bits - 1) {
          int index = Long.numberOfTrailingZeros(bits);
          position = makeRoom(buffer, CHUNK_SIZE, position);
          buffer.put(page.bytes, index << CHUNK_SHIFT, CHUNK_SIZE);
        }
      }
      position = writeOut(buffer, position, true); // the CRC covers the header and the body
      buffer.putInt((int) crc.getValue());
      writeOut(buffer, position, false);
    } catch (IOException e) {
      throw cutBack(e);
    }
    try {
      journal.force(false);
    } catch (IOException e) {
      throw failure.fail(
          "cannot sync the journal " + journalPath(generation) + " (" + e.getMessage() + "); not retried", e);
    }
    // Committed: from here on nothing may throw.
    journalSize += recordLength;
    nextSeq++;
    for (Page page : dirty) {
      page.dirtyChunks = 0;
    }
    dirty.clear();
    undo.clear();
    options.afterStep().accept("journal " + generation + " appended");
    if (journalSize >= CHECKPOINT_JOURNAL_BYTES || overlayPages.size() >= CHECKPOINT_PAGES) {
      try {
        if (overlayPages.size() >= MAX_OVERLAY_PAGES) {
          awaitCheckpoint(); // the disk is slower than the commits: let the commits wait
        }
        startCheckpoint();
      } catch (RuntimeException e) {
        // This commit is durable and stands; the next one is refused.
        failure.fail("cannot checkpoint " + file + " (" + e.getMessage() + ")", e);
      }
    }
  }

  /** Writes out what {@code buffer} holds if fewer than {@code bytes} more fit; returns the position. */
  private long makeRoom(ByteBuffer buffer, int bytes, long position) throws IOException {
    return buffer.remaining() < bytes ? writeOut(buffer, position, true) : position;
  }

  /**
   * Appends what {@code buffer} holds to the journal at {@code position} (adding it to the record's
   * CRC if {@code checked}), empties it, and returns the position after it.
   */
  private long writeOut(ByteBuffer buffer, long position, boolean checked) throws IOException {
    buffer.flip();
    if (checked) {
      crc.update(buffer.duplicate());
    }
    long after = writeFully(journal, buffer, position);
    buffer.clear();
    return after;
  }

  /**
   * After a failed append: truncates the journal back to its last complete record and forces that,
   * then fails the storage.
   */
  private StorageFailedException cutBack(IOException writeFailure) {
    Path path = journalPath(generation);
    try {
      journal.truncate(journalSize);
      journal.force(false);
    } catch (IOException | RuntimeException e) {
      writeFailure.addSuppressed(e);
      return failure.fail(
          "cannot write the journal "
              + path
              + " ("
              + writeFailure.getMessage()
              + "), nor cut it back to its last complete record ("
              + e.getMessage()
              + ")",
          writeFailure);
    }
    return failure.fail(
        "cannot write the journal " + path + " (" + writeFailure.getMessage() + "); cut back to its last complete record",
        writeFailure);
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

  /**
   * Checkpoint thread: writes {@code frozen} into the file, forces it, then drops the old journal.
   * A failure fails the storage for good (the old journal stays, and the next open replays it):
   * after a failed fdatasync of the file, syncing it again would prove nothing.
   */
  private void writeCheckpoint(List<Page> frozen, FileChannel oldJournal, long oldGeneration) {
    try {
      writeCheckpointOrThrow(frozen, oldJournal, oldGeneration);
    } catch (IOException | RuntimeException | Error e) {
      throw failure.fail("checkpoint of " + file + " failed (" + e + ")", e);
    }
  }

  private void writeCheckpointOrThrow(List<Page> frozen, FileChannel oldJournal, long oldGeneration)
      throws IOException {
    beforeCheckpointWrites.run();
    long started = System.nanoTime();
    frozen.sort(Comparator.comparingLong(page -> page.number));
    for (Page page : frozen) {
      writeFully(baseChannel, ByteBuffer.wrap(page.bytes), page.number << PAGE_SHIFT);
    }
    baseChannel.force(false);
    options.afterStep().accept("checkpoint of journal " + oldGeneration + " written");
    oldJournal.close();
    Files.delete(journalPath(oldGeneration));
    // Durably gone: a journal that came back after a power loss would replay old bytes over
    // newer checkpoints.
    syncDirectory(file);
    options.afterStep().accept("journal " + oldGeneration + " deleted");
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

  /** @throws StorageFailedException if the checkpoint failed */
  private void await(Future<?> checkpoint) {
    try {
      checkpoint.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted waiting for a checkpoint", e);
    } catch (ExecutionException e) {
      throw failure.fail("checkpoint of " + file + " failed (" + e.getCause() + ")", e.getCause());
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

  /**
   * Waits for the running checkpoint, if any, without holding up the writer meanwhile.
   *
   * @throws StorageFailedException if it failed
   */
  void awaitCheckpointDone() {
    Future<?> running;
    synchronized (this) {
      running = checkpoint;
    }
    await(running);
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
        journal.close();
        Files.delete(journalPath(generation));
        syncDirectory(file);
      }
    } catch (StorageFailedException e) {
      log.warn("storage-mapdb: {} closed without a checkpoint; the next start replays its journal", file);
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

  /**
   * Grows the file at once (with zeros, beyond anything committed) and the overlay's table.
   *
   * @throws StorageFailedException if the file cannot grow (a full disk): the storage fails for
   *     good, as when the journal cannot be written (see {@link #sync()})
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
