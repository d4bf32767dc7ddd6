package org.esmp.plugin.storage.mapdb;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.zip.CRC32C;
import org.mapdb.volume.Volume;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replays a store file's journals (records as {@link Journal} writes them) into the file when it is
 * opened, before MapDB reads it. A record is acknowledged only after it was forced whole, so a torn
 * last record never was. Replaying a record again is harmless: it writes the same bytes, and every
 * later record is replayed after it. A journal damaged before its end is refused rather than
 * replayed: see {@link #replay} for how that is told from a torn tail.
 *
 * <p>Called once, by the thread that opens the volume.
 */
final class JournalReplay {

  private static final Logger log = LoggerFactory.getLogger(JournalReplay.class);

  private JournalReplay() {}

  /**
   * Replays the complete records of every journal of {@code file}, oldest generation first, into it
   * through {@code baseChannel}, forces the file, and then deletes the journals, durably.
   *
   * @return the generation the next journal takes: one after the last replayed
   * @throws IllegalStateException if a journal is corrupt before its end (see {@link #replay}), or
   *     damaged before a later generation
   */
  static long replayAll(Path file, Volume base, FileChannel baseChannel, JournalOptions options) throws IOException {
    List<Path> journals = Journal.journalsOf(file);
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
      Journal.syncDirectory(file); // durably gone: see Journal.closeAndDelete
      options.afterStep().accept("journals replayed and deleted");
    }
    return journals.isEmpty() ? 1 : Journal.generationOf(journals.get(journals.size() - 1)) + 1;
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
   * record is ever written after one that may be incomplete (see {@link Journal#append}). Journals
   * are new files (never reused or preallocated), so the bytes after the last record are only what
   * an unfinished append left: part of one record, or zeros where its pages never reached the disk.
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
      ByteBuffer header = ByteBuffer.allocate(Journal.RECORD_HEADER);
      CRC32C crc = new CRC32C();
      while (position + Journal.RECORD_HEADER + 4 <= size) {
        header.clear();
        readFully(journal, header, position);
        header.flip();
        int magic = header.getInt();
        int bodyLength = header.getInt();
        long seq = header.getLong();
        if (magic != Journal.RECORD_MAGIC
            || bodyLength < 0
            || bodyLength > maxRecordBody
            || position + Journal.RECORD_HEADER + bodyLength + 4 > size
            || seq != expectedSeq) {
          break;
        }
        ByteBuffer body = ByteBuffer.allocate(bodyLength + 4);
        readFully(journal, body, position + Journal.RECORD_HEADER);
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
        position += Journal.RECORD_HEADER + bodyLength + 4;
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
    for (int at = 1; at + Journal.RECORD_HEADER + 4 <= tail.limit(); at++) {
      if (tail.getInt(at) != Journal.RECORD_MAGIC) {
        continue;
      }
      int bodyLength = tail.getInt(at + 4);
      long seq = tail.getLong(at + 8);
      if (bodyLength < 0 || bodyLength > maxRecordBody || seq <= lastSeq) {
        continue;
      }
      long end = (long) at + Journal.RECORD_HEADER + bodyLength + 4;
      if (end > tail.limit()) {
        continue;
      }
      crc.reset();
      crc.update(tail.slice(at, Journal.RECORD_HEADER + bodyLength));
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
      long pageStart = pageNumber << PageOverlay.PAGE_SHIFT;
      // Grows the file first, writing zeros (MapDB's volume writes them through a RandomAccessFile,
      // so a full disk is an exception here too), and maps the new part for later reads.
      base.ensureAvailable(pageStart + PageOverlay.PAGE_SIZE);
      // One write per run of adjacent chunks: their bytes are adjacent in the record too.
      long bits = chunks;
      while (bits != 0) {
        int first = Long.numberOfTrailingZeros(bits);
        int run = Long.numberOfTrailingZeros(~(bits >>> first)); // the set bits from first on
        int length = run << PageOverlay.CHUNK_SHIFT;
        ByteBuffer bytes = body.slice(body.position(), length);
        body.position(body.position() + length);
        FileAccess.writeFully(baseChannel, bytes, pageStart + ((long) first << PageOverlay.CHUNK_SHIFT));
        bits = run == 64 ? 0 : bits & ~(((1L << run) - 1) << first);
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
}
