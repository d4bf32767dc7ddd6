package org.esmp.plugin.storage.mapdb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The volume's promises as MapDB sees them, its parts together on real files: commits that survive
 * a crash, checkpoints, a clean close, a first start. A "crash" here is a copy of the files as they
 * are on disk while the volume is still open (what a kill would leave: nothing is written on the
 * way down), opened as a new volume. Each part's own rules are tested with it: {@link
 * PageOverlayTest}, {@link JournalTest}, {@link JournalReplayTest}, {@link CheckpointerTest}.
 */
class JournaledVolumeTest {

  private static final long SIZE = 4L << 20;

  @TempDir Path dir;

  private JournaledVolume fresh(String name) {
    JournaledVolume volume = JournaledVolume.open(dir.resolve(name));
    volume.ensureAvailable(SIZE);
    return volume;
  }

  /** Copies the store file and its journal as they are on disk now, as a kill would leave them. */
  private Path crashCopy(String from, String to) throws IOException {
    Path source = dir.resolve(from);
    Path target = dir.resolve(to);
    Files.copy(source, target);
    for (Path journal : Journal.journalsOf(source)) {
      String name = journal.getFileName().toString();
      Files.copy(journal, dir.resolve(to + name.substring(from.length())));
    }
    return target;
  }

  private static Path onlyJournal(Path file) throws IOException {
    List<Path> journals = Journal.journalsOf(file);
    assertEquals(1, journals.size(), journals.toString());
    return journals.get(0);
  }

  private static byte[] bytes(int seed, int length) {
    byte[] b = new byte[length];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static byte[] read(JournaledVolume volume, long offset, int length) {
    byte[] b = new byte[length];
    volume.getData(offset, b, 0, length);
    return b;
  }

  @Test
  void writesAreReadBackBeforeAndAfterCommitAndAcrossPages() throws IOException {
    JournaledVolume volume = fresh("a");
    byte[] data = bytes(1, 10_000);
    volume.putData(4000, data, 0, data.length); // spans three pages
    assertArrayEquals(data, read(volume, 4000, data.length));
    volume.sync();
    volume.putLong(8190, 0x0102030405060708L); // straddles a page boundary, over data
    volume.putInt(100, 42);
    assertEquals(0x0102030405060708L, volume.getLong(8190));
    assertEquals(42, volume.getInt(100));
    byte[] expected = data.clone();
    ByteBuffer.wrap(expected).putLong(8190 - 4000, 0x0102030405060708L);
    byte[] viaInput = new byte[data.length];
    volume.getDataInput(4000, data.length).readFully(viaInput);
    assertArrayEquals(expected, viaInput);
    volume.close();
  }

  @Test
  void committedWritesSurviveACrashThroughTheJournalAlone() throws IOException {
    JournaledVolume volume = fresh("a");
    byte[] first = bytes(1, 5000);
    byte[] second = bytes(2, 300);
    volume.putData(10_000, first, 0, first.length);
    volume.sync();
    volume.putData(20_000, second, 0, second.length);
    volume.putData(10_100, second, 0, second.length);
    volume.sync();
    volume.putLong(30_000, 99); // never committed
    assertTrue(volume.journalSize() > 0);
    assertTrue(Files.size(dir.resolve("a")) >= SIZE, "file grown at once");
    byte[] onDisk = new byte[first.length];
    try (FileChannel channel = FileChannel.open(dir.resolve("a"))) {
      channel.read(ByteBuffer.wrap(onDisk), 10_000);
    }
    assertArrayEquals(new byte[first.length], onDisk, "no write reaches the file before a checkpoint");

    JournaledVolume recovered = JournaledVolume.open(crashCopy("a", "b"));
    byte[] expected = first.clone();
    System.arraycopy(second, 0, expected, 100, second.length);
    assertArrayEquals(expected, read(recovered, 10_000, first.length));
    assertArrayEquals(second, read(recovered, 20_000, second.length));
    assertEquals(0, recovered.getLong(30_000));
    assertEquals(0, recovered.journalSize(), "replayed into the file, journal emptied");
    recovered.close();
    volume.close();
  }

  @Test
  void aCheckpointCutShortIsCompletedByTheJournal() throws IOException {
    JournaledVolume volume = fresh("a");
    byte[] data = bytes(3, 3 * PageOverlay.PAGE_SIZE);
    volume.putData(0, data, 0, data.length);
    volume.sync();
    Path copy = crashCopy("a", "b");
    // A checkpoint killed half way: the file has some pages, garbage in one, and the journal
    // still has everything.
    try (FileChannel file = FileChannel.open(copy, StandardOpenOption.WRITE)) {
      file.write(ByteBuffer.wrap(data, 0, PageOverlay.PAGE_SIZE), 0);
      file.write(ByteBuffer.wrap(bytes(4, 100)), PageOverlay.PAGE_SIZE + 50);
    }
    JournaledVolume recovered = JournaledVolume.open(copy);
    assertArrayEquals(data, read(recovered, 0, data.length));
    recovered.close();
    volume.close();
  }

  @Test
  void aCheckpointMovesCommittedPagesIntoTheFileAndEmptiesTheJournal() throws IOException {
    JournaledVolume volume = fresh("a");
    byte[] data = bytes(5, 9000);
    volume.putData(100, data, 0, data.length);
    volume.sync();
    assertEquals(3, volume.overlayPageCount());
    volume.checkpoint();
    assertEquals(0, volume.overlayPageCount());
    assertEquals(0, volume.journalSize());
    assertEquals(0, Files.size(onlyJournal(dir.resolve("a"))), "the old generation deleted, the new one empty");
    assertArrayEquals(data, read(volume, 100, data.length), "read from the file now");
    JournaledVolume recovered = JournaledVolume.open(crashCopy("a", "b"));
    assertArrayEquals(data, read(recovered, 100, data.length));
    recovered.close();
    volume.close();
  }

  @Test
  void aCleanCloseLeavesNothingToReplayAndDropsWhatWasNotCommitted() throws IOException {
    JournaledVolume volume = fresh("a");
    volume.putLong(0, 123);
    volume.sync();
    volume.putLong(8, 456);
    volume.close();
    assertEquals(List.of(), Journal.journalsOf(dir.resolve("a")));
    JournaledVolume reopened = JournaledVolume.open(dir.resolve("a"));
    assertTrue(reopened.existed());
    assertEquals(123, reopened.getLong(0));
    assertEquals(0, reopened.getLong(8));
    reopened.close();
  }

  @Test
  void aFileThatNeverSawACommitDidNotExist() {
    JournaledVolume volume = fresh("a");
    volume.putLong(0, 1);
    volume.close(); // not synced: dropped
    JournaledVolume reopened = JournaledVolume.open(dir.resolve("a"));
    assertFalse(reopened.existed());
    reopened.close();
  }

  @Test
  void writesDuringACheckpointGoToCopiesAndSurviveACrashAtAnyPoint() throws Exception {
    JournaledVolume volume = fresh("a");
    volume.putLong(0, 1);
    volume.putLong(4096, 1);
    volume.sync();
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    volume.beforeCheckpointWrites(
        () -> {
          started.countDown();
          try {
            release.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
    volume.beginCheckpoint();
    assertTrue(started.await(10, TimeUnit.SECONDS));
    volume.putLong(0, 2); // page 0 is frozen: written into a copy
    volume.putLong(8192, 2); // a page new to the overlay
    volume.sync();
    assertEquals(2, volume.getLong(0));
    assertEquals(1, volume.getLong(4096));
    assertEquals(2, Journal.journalsOf(dir.resolve("a")).size());

    // Killed before the checkpoint wrote anything: both generations replay, oldest first.
    JournaledVolume recovered = JournaledVolume.open(crashCopy("a", "b"));
    assertEquals(2, recovered.getLong(0));
    assertEquals(1, recovered.getLong(4096));
    assertEquals(2, recovered.getLong(8192));
    recovered.close();

    volume.putLong(0, 3);
    volume.rollback(); // a rollback of a copied page restores the committed copy
    assertEquals(2, volume.getLong(0));

    release.countDown();
    volume.awaitCheckpointDone();
    assertEquals(1, Journal.journalsOf(dir.resolve("a")).size(), "the old generation is deleted");
    assertEquals(2, volume.overlayPageCount(), "the copy of page 0 and page 2 stay; page 1 left");
    assertEquals(2, volume.getLong(0));
    assertEquals(1, volume.getLong(4096));

    // Killed after the checkpoint: the file has the frozen bytes, the journal the later ones.
    recovered = JournaledVolume.open(crashCopy("a", "c"));
    assertEquals(2, recovered.getLong(0));
    assertEquals(1, recovered.getLong(4096));
    assertEquals(2, recovered.getLong(8192));
    recovered.close();
    volume.close();
  }

  @Test
  void deferredSyncsCommitEverythingSinceAsOneRecord() throws IOException {
    JournaledVolume volume = fresh("a");
    volume.deferSyncs(true);
    volume.putLong(0, 1);
    volume.sync();
    volume.putLong(8192, 2);
    volume.sync();
    assertEquals(0, volume.journalSize(), "nothing written while deferred");
    volume.deferSyncs(false);
    volume.sync();
    long size = volume.journalSize();
    assertEquals(Journal.RECORD_HEADER + 2 * (16 + PageOverlay.CHUNK_SIZE) + 4, size, "one record of both");
    JournaledVolume recovered = JournaledVolume.open(crashCopy("a", "b"));
    assertTrue(recovered.existed());
    assertEquals(1, recovered.getLong(0));
    assertEquals(2, recovered.getLong(8192));
    recovered.close();
    volume.close();
  }

  @Test
  void aCommitTooLargeForOneRecordIsRefusedAndTheVolumeGoesOn() {
    JournaledVolume volume =
        JournaledVolume.open(dir.resolve("a"), new StorageFailure(), JournalOptions.DEFAULT.withMaxRecordBody(1024));
    volume.ensureAvailable(SIZE);
    volume.putData(0, bytes(8, 2 * PageOverlay.PAGE_SIZE), 0, 2 * PageOverlay.PAGE_SIZE);
    assertThrows(RecordTooLargeException.class, volume::sync);
    assertEquals(0, volume.journalSize());
    volume.rollback();
    volume.putLong(0, 1);
    volume.sync();
    assertTrue(volume.journalSize() > 0);
    volume.close();
  }
}
