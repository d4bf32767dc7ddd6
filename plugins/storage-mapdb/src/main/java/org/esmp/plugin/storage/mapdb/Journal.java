package org.esmp.plugin.storage.mapdb;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.zip.CRC32C;
import org.esmp.api.StorageFailedException;
import org.esmp.plugin.storage.mapdb.PageOverlay.Page;

/**
 * The redo journal of a store file, written: each commit appends one record to the current
 * generation's file ({@code <file>.journal.<generation>}) and forces it, and a checkpoint moves
 * later commits to the next generation ({@link #roll}). {@link JournalReplay} reads them back.
 *
 * <p>A record: the magic number {@code "ESJ1"} (4 bytes), the body's length (4), a sequence number
 * (8, from 1 in each generation), the body, and a CRC32C (4) of all that precedes it in the record.
 * The body holds, for each page written since the last commit, its page number (8), its dirty-chunk
 * bits (8) and the 64 bytes of each dirty chunk, lowest first. Big-endian throughout.
 *
 * <p>Journals are new files, never reused or preallocated, created readable by their owner only;
 * every creation and deletion of one is made durable by forcing the directory.
 *
 * <p>Not thread-safe: the volume's writer calls it, under the volume's lock. A {@link Retired}
 * generation is handed to the checkpoint thread, which deletes it.
 */
final class Journal {

  static final int RECORD_MAGIC = 0x45534a31; // "ESJ1"
  /** magic, body length, sequence number. */
  static final int RECORD_HEADER = 4 + 4 + 8;

  private static final String INFIX = ".journal.";

  private final Path file;
  private final StorageFailure failure;
  private final JournalOptions options;
  private FileChannel channel;
  private long generation;
  private long size;
  private long nextSeq = 1;
  private final ByteBuffer recordBuffer = ByteBuffer.allocateDirect(1 << 20);
  private final CRC32C crc = new CRC32C();

  /**
   * Starts the journal of {@code file} at a new, empty {@code generation} (which must not exist).
   *
   * @param failure where a failed append or fdatasync fails the storage for good
   */
  Journal(Path file, long generation, StorageFailure failure, JournalOptions options) throws IOException {
    this.file = file;
    this.failure = failure;
    this.options = options;
    this.generation = generation;
    this.channel = create(generation);
  }

  /** The journal files of {@code file}, oldest generation first. */
  static List<Path> journalsOf(Path file) throws IOException {
    String prefix = file.getFileName() + INFIX;
    List<Path> journals = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(file.toAbsolutePath().getParent(), prefix + "*")) {
      for (Path entry : entries) {
        String suffix = entry.getFileName().toString().substring(prefix.length());
        if (!suffix.isEmpty() && suffix.chars().allMatch(Character::isDigit)) {
          journals.add(entry);
        }
      }
    }
    journals.sort(Comparator.comparingLong(Journal::generationOf));
    return journals;
  }

  static long generationOf(Path journal) {
    String name = journal.getFileName().toString();
    return Long.parseLong(name.substring(name.lastIndexOf('.') + 1));
  }

  private Path path(long generation) {
    return file.resolveSibling(file.getFileName() + INFIX + generation);
  }

  /** Forces the directory of {@code file}, so that files created in or deleted from it stay so after a power loss. */
  static void syncDirectory(Path file) throws IOException {
    OwnerOnly.syncDirectory(file.toAbsolutePath().getParent());
  }

  /** Creates the journal of {@code generation}, durably: its name too is on disk when this returns. */
  private FileChannel create(long generation) throws IOException {
    FileChannel channel =
        options
            .files()
            .open(
                path(generation),
                Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                OwnerOnly.fileAttributes(file.toAbsolutePath().getParent()));
    syncDirectory(file);
    options.afterStep().accept("journal " + generation + " created");
    return channel;
  }

  /** The current generation. */
  long generation() {
    return generation;
  }

  /** The file of the current generation. */
  Path currentFile() {
    return path(generation);
  }

  /** Bytes in the current generation: its complete records. */
  long size() {
    return size;
  }

  /**
   * Appends {@code pages}' dirty chunks as one record and forces it to disk (fdatasync): once this
   * returns, the record is durable, and it is the commit.
   *
   * <p>How a failure ends:
   *
   * <ul>
   *   <li>The chunks do not fit in one record ({@link JournalOptions#maxRecordBody}): nothing is
   *       written, {@link RecordTooLargeException}, and the journal goes on (the caller rolls back).
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
   * <p>After either failure the volume refuses every later commit ({@link StorageFailure#check}),
   * so no record is ever written after one that may be incomplete: what {@link JournalReplay}
   * relies on to tell a torn tail from damage.
   *
   * @throws StorageFailedException if the append or the fdatasync failed: the storage failed
   * @throws RecordTooLargeException if the chunks do not fit in one record: nothing written
   */
  void append(List<Page> pages) {
    long bodyLength = 0;
    for (Page page : pages) {
      bodyLength += 16 + Long.bitCount(page.dirtyChunks) * PageOverlay.CHUNK_SIZE;
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
    long position = size;
    try {
      buffer.putInt(RECORD_MAGIC).putInt((int) bodyLength).putLong(nextSeq);
      for (Page page : pages) {
        position = makeRoom(buffer, 16, position);
        buffer.putLong(page.number).putLong(page.dirtyChunks);
        for (long bits = page.dirtyChunks; bits != 0; bits &= bits - 1) {
          int index = Long.numberOfTrailingZeros(bits);
          position = makeRoom(buffer, PageOverlay.CHUNK_SIZE, position);
          buffer.put(page.bytes, index << PageOverlay.CHUNK_SHIFT, PageOverlay.CHUNK_SIZE);
        }
      }
      position = writeOut(buffer, position, true); // the CRC covers the header and the body
      buffer.putInt((int) crc.getValue());
      writeOut(buffer, position, false);
    } catch (IOException e) {
      throw cutBack(e);
    }
    try {
      channel.force(false);
    } catch (IOException e) {
      throw failure.fail(
          "cannot sync the journal " + path(generation) + " (" + e.getMessage() + "); not retried", e);
    }
    size += recordLength;
    nextSeq++;
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
    long after = FileAccess.writeFully(channel, buffer, position);
    buffer.clear();
    return after;
  }

  /**
   * After a failed append: truncates the journal back to its last complete record and forces that,
   * then fails the storage.
   */
  private StorageFailedException cutBack(IOException writeFailure) {
    Path path = path(generation);
    try {
      channel.truncate(size);
      channel.force(false);
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
   * Moves later records to a new, empty generation, created durably first, and returns the one
   * they went to until now. Nothing changes if the new generation cannot be created.
   */
  Retired roll() throws IOException {
    FileChannel next = create(generation + 1);
    Retired retired = new Retired(channel, generation);
    channel = next;
    generation++;
    size = 0;
    nextSeq = 1;
    return retired;
  }

  /**
   * A generation no longer appended to. It holds every change the store file may lack until a
   * checkpoint has forced the file; only then may it be deleted.
   */
  final class Retired {
    private final FileChannel channel;
    final long generation;

    private Retired(FileChannel channel, long generation) {
      this.channel = channel;
      this.generation = generation;
    }

    /** Closes and deletes it, durably: once the store file holds everything it held, forced. */
    void delete() throws IOException {
      closeAndDelete(channel, generation);
      options.afterStep().accept("journal " + generation + " deleted");
    }
  }

  /**
   * Closes and deletes the current generation, durably: for a clean close, once a checkpoint has
   * put everything committed into the store file.
   */
  void delete() throws IOException {
    closeAndDelete(channel, generation);
  }

  private void closeAndDelete(FileChannel channel, long generation) throws IOException {
    channel.close();
    Files.delete(path(generation));
    // Durably gone: a journal that came back after a power loss would replay old bytes over
    // newer checkpoints.
    syncDirectory(file);
  }

  /** Closes the current generation's channel, logging a failure; the file stays. */
  void closeQuietly() {
    JournaledVolume.closeQuietly(channel);
  }
}
