package org.esmp.plugin.storage.mapdb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mapdb.volume.MappedFileVol;
import org.mapdb.volume.SingleByteArrayVol;
import org.mapdb.volume.Volume;

/**
 * Replay of journals written by {@link Journal}: what it applies, what it drops as a torn tail, and
 * what it refuses as damage.
 */
class JournalReplayTest {

  private static final int SIZE = 4 << 20;

  @TempDir Path dir;

  private Writer writer;

  @AfterEach
  void closeWriter() {
    if (writer != null) {
      writer.journal.closeQuietly();
    }
  }

  /** Writes and commits as the volume does: into an overlay, then its chunks as a record. */
  private final class Writer {
    final byte[] expected = new byte[SIZE];
    final PageOverlay overlay = new PageOverlay(new SingleByteArrayVol(SIZE));
    final Journal journal;

    Writer() throws IOException {
      journal = new Journal(dir.resolve("s"), 1, new StorageFailure(), JournalOptions.DEFAULT);
    }

    Writer put(int offset, byte[] data) {
      overlay.putData(offset, data, 0, data.length);
      System.arraycopy(data, 0, expected, offset, data.length);
      return this;
    }

    Writer putLong(int offset, long value) {
      return put(offset, ByteBuffer.allocate(8).putLong(value).array());
    }

    /** Commits; returns where the record starts. */
    long commit() {
      long at = journal.size();
      journal.append(overlay.uncommitted());
      overlay.committed();
      return at;
    }
  }

  private Writer writer() throws IOException {
    writer = new Writer();
    return writer;
  }

  private static byte[] bytes(int seed, int length) {
    byte[] b = new byte[length];
    new Random(seed).nextBytes(b);
    return b;
  }

  private Path journal(long generation) {
    return dir.resolve("s.journal." + generation);
  }

  /** The store file as the volume maps it. */
  private static Volume mapped(Path file) {
    return new MappedFileVol(file.toFile(), false, 0L, 20, true, 0L, false);
  }

  /** Replays the journals into the store file as opening the volume does; the file's bytes after. */
  private ByteBuffer replay() throws IOException {
    Path file = dir.resolve("s");
    if (!Files.exists(file)) {
      Files.createFile(file);
    }
    Volume base = mapped(file);
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      JournalReplay.replayAll(file, base, channel, JournalOptions.DEFAULT);
    } finally {
      base.close();
    }
    ByteBuffer replayed = ByteBuffer.allocate(SIZE);
    replayed.put(Files.readAllBytes(file));
    return replayed.clear();
  }

  private void damage(Path journal, long at, byte[] bytes) throws IOException {
    try (FileChannel channel = FileChannel.open(journal, StandardOpenOption.WRITE)) {
      channel.write(ByteBuffer.wrap(bytes), at);
    }
  }

  private void truncate(Path journal, long size) throws IOException {
    try (FileChannel channel = FileChannel.open(journal, StandardOpenOption.WRITE)) {
      channel.truncate(size);
    }
  }

  @Test
  void everyRecordIsAppliedOldestGenerationFirstAndTheJournalsDeleted() throws IOException {
    Writer w = writer().putLong(8, 1).put(10_000, bytes(1, 5000));
    w.commit();
    w.journal.roll();
    w.putLong(8, 2).putLong(3 * PageOverlay.PAGE_SIZE, 2);
    w.commit();
    Path file = dir.resolve("s");
    Files.createFile(file);
    Volume base = mapped(file);
    long next;
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      next = JournalReplay.replayAll(file, base, channel, JournalOptions.DEFAULT);
      assertEquals(2, base.getLong(8), "the later generation's bytes last");
    } finally {
      base.close();
    }
    assertEquals(3, next, "one after the last replayed");
    assertEquals(List.of(), Journal.journalsOf(file));
    assertArrayEquals(w.expected, replay().array(), "nothing left to replay, and nothing lost");
  }

  @Test
  void withoutJournalsNothingChangesAndTheFirstGenerationIsOne() throws IOException {
    Path file = Files.write(dir.resolve("s"), bytes(2, 8192));
    Volume base = mapped(file);
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      assertEquals(1, JournalReplay.replayAll(file, base, channel, JournalOptions.DEFAULT));
    } finally {
      base.close();
    }
    assertArrayEquals(bytes(2, 8192), Arrays.copyOf(Files.readAllBytes(file), 8192)); // mapping grew the file
  }

  @Test
  void aTornLastRecordIsIgnoredAndTheOnesBeforeItKept() throws IOException {
    Writer w = writer();
    w.putLong(8, 1).commit();
    long second = w.putLong(8, 2).putLong(5000, 2).commit();
    Path copy = dir.resolve("copy");
    Files.copy(journal(1), copy);

    truncate(journal(1), w.journal.size() - 3); // the second record's end never reached the disk
    ByteBuffer replayed = replay();
    assertEquals(1, replayed.getLong(8));
    assertEquals(0, replayed.getLong(5000));

    Files.delete(dir.resolve("s"));
    Files.copy(copy, journal(1));
    damage(journal(1), second + 30, new byte[] {0x55}); // a bad byte in the second
    replayed = replay();
    assertEquals(1, replayed.getLong(8));
    assertEquals(0, replayed.getLong(5000));
  }

  @Test
  void aTornTailOfPartOfARecordAndZerosIsDropped() throws IOException {
    Writer w = writer();
    w.putLong(8, 1).commit();
    w.putLong(8, 2).putLong(5000, 2).commit();
    long third = w.putLong(8, 3).commit();
    long size = w.journal.size();
    // The third record's first half reached the disk, the rest is zeros, and more zeros follow
    // (pages of an append that never reached the disk).
    damage(journal(1), third + (size - third) / 2, new byte[(int) (size - third) / 2 + 8192]);
    ByteBuffer replayed = replay();
    assertEquals(2, replayed.getLong(8));
    assertEquals(2, replayed.getLong(5000));
  }

  @Test
  void aDamagedRecordFollowedByAValidOneIsRefusedNamingFileAndOffset() throws IOException {
    Writer w = writer();
    w.putLong(8, 1).commit();
    long second = w.putLong(8, 2).putLong(5000, 2).commit();
    long third = w.putLong(8, 3).commit();
    Path copy = Files.copy(journal(1), dir.resolve("copy"));

    damage(journal(1), second + 30, new byte[] {0x55}); // a bad byte in the second's body
    IllegalStateException e = assertThrows(IllegalStateException.class, this::replay);
    assertTrue(e.getMessage().contains(journal(1).toString()), e.getMessage());
    assertTrue(e.getMessage().contains("corrupt at byte " + second), e.getMessage());
    assertTrue(e.getMessage().contains("valid record follows at byte " + third), e.getMessage());
    assertTrue(Files.exists(journal(1)), "a refused journal stays");

    // A damaged length field: the valid record after it is found all the same.
    Files.copy(copy, journal(1), StandardCopyOption.REPLACE_EXISTING);
    damage(journal(1), second + 4, ByteBuffer.allocate(4).putInt(0, 1 << 20).array());
    e = assertThrows(IllegalStateException.class, this::replay);
    assertTrue(e.getMessage().contains("corrupt at byte " + second), e.getMessage());
  }

  @Test
  void aDamagedJournalBeforeALaterOneIsRefused() throws IOException {
    Writer w = writer();
    w.putLong(0, 1).commit();
    w.journal.roll();
    w.putLong(0, 2).commit();
    truncate(journal(1), Files.size(journal(1)) - 1);
    IllegalStateException e = assertThrows(IllegalStateException.class, this::replay);
    assertTrue(e.getMessage().contains("damaged at byte 0"), e.getMessage());
    assertTrue(e.getMessage().contains("a later journal exists"), e.getMessage());
  }

  @Test
  void aRecordLargerThanTheWriteBufferReplaysWhole() throws IOException {
    Writer w = writer().put(4096, bytes(7, 3 << 20)); // about 3 MiB of chunks, one record
    w.commit();
    assertTrue(w.journal.size() > 3 << 20, "one record holds all of it: " + w.journal.size());
    Path file = Files.createFile(dir.resolve("s"));
    Volume base = mapped(file);
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      JournalReplay.Replay replay = JournalReplay.replay(journal(1), base, channel, JournalOptions.MAX_RECORD_BODY);
      assertEquals(new JournalReplay.Replay(1, -1), replay);
    } finally {
      base.close();
    }
    assertArrayEquals(w.expected, replay().array());
  }

  @Test
  void replayRestoresEveryByteOfScatteredWrites() throws IOException {
    Writer w = writer();
    Random random = new Random(42);
    for (int commit = 0; commit < 200; commit++) {
      for (int write = 0; write < 20; write++) {
        int length = 1 + random.nextInt(random.nextBoolean() ? 16 : 9000);
        w.put(random.nextInt(SIZE - length), bytes(random.nextInt(), length));
      }
      w.commit();
    }
    long started = System.nanoTime();
    ByteBuffer replayed = replay();
    System.out.printf("replayed a %d KiB journal in %d ms%n", w.journal.size() >> 10,
        (System.nanoTime() - started) / 1_000_000);
    assertArrayEquals(w.expected, replayed.array());
  }
}
