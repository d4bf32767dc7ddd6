package org.esmp.plugin.storage.mapdb;

import static org.esmp.plugin.storage.mapdb.PageOverlay.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.esmp.api.StorageFailedException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mapdb.volume.MappedFileVol;
import org.mapdb.volume.Volume;

/** Checkpoints on a real store file, with the overlay and journal they work on. */
class CheckpointerTest {

  @TempDir Path dir;

  private final StorageFailure failure = new StorageFailure();
  private final List<String> steps = Collections.synchronizedList(new ArrayList<>());
  private Volume base;
  private FileChannel baseChannel;
  private PageOverlay overlay;
  private Journal journal;
  private Checkpointer checkpointer;

  /** A store file of 16 pages, as the volume sets one up, with its channels from {@code files}. */
  private void open(FileAccess files) throws IOException {
    Path file = dir.resolve("s");
    Files.createFile(file);
    JournalOptions options = JournalOptions.DEFAULT.withFiles(files).withAfterStep(steps::add);
    base = new MappedFileVol(file.toFile(), false, 0L, 20, true, 0L, false);
    base.ensureAvailable(16 * PAGE_SIZE);
    baseChannel = files.open(file, Set.of(StandardOpenOption.READ, StandardOpenOption.WRITE));
    overlay = new PageOverlay(base);
    journal = new Journal(file, 1, failure, options);
    checkpointer = new Checkpointer(file, baseChannel, journal, overlay, failure, options);
  }

  @AfterEach
  void close() throws IOException {
    if (checkpointer != null) {
      checkpointer.shutdown();
      journal.closeQuietly();
      base.close();
      baseChannel.close();
    }
  }

  private void commitLong(long offset, long value) {
    overlay.putLong(offset, value);
    journal.append(overlay.uncommitted());
    overlay.committed();
  }

  private long fileLong(long offset) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(8);
    baseChannel.read(b, offset);
    return b.getLong(0);
  }

  private List<Path> journals() throws IOException {
    return Journal.journalsOf(dir.resolve("s")).stream().map(Path::getFileName).toList();
  }

  /** Holds the next checkpoint before it writes, until the returned latch is counted down. */
  private CountDownLatch holdCheckpoint(CountDownLatch started) {
    CountDownLatch release = new CountDownLatch(1);
    checkpointer.beforeWrites =
        () -> {
          started.countDown();
          try {
            release.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        };
    return release;
  }

  @Test
  void writesTheFrozenPagesIntoTheFileThenDeletesTheOldJournalAndReleasesThePages() throws IOException {
    open(FileAccess.DEFAULT);
    commitLong(8, 1);
    commitLong(5 * PAGE_SIZE, 5);
    assertEquals(0, fileLong(8), "commits do not reach the file");
    checkpointer.start();
    checkpointer.awaitRunning();
    assertEquals(1, fileLong(8));
    assertEquals(5, fileLong(5 * PAGE_SIZE));
    assertEquals(0, overlay.size());
    assertEquals(5, overlay.getLong(5 * PAGE_SIZE), "read from the file now");
    assertEquals(List.of(Path.of("s.journal.2")), journals());
    assertEquals(
        List.of(
            "journal 1 created",
            "journal 2 created",
            "checkpoint of journal 1 written",
            "journal 1 deleted"),
        steps,
        "the old journal goes only after the file has its pages");
  }

  @Test
  void startsNothingWithNothingToWriteOrWhileACheckpointRuns() throws Exception {
    open(FileAccess.DEFAULT);
    checkpointer.start();
    checkpointer.awaitRunning();
    assertEquals(1, journal.generation(), "an empty overlay: no checkpoint");

    commitLong(8, 1);
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = holdCheckpoint(started);
    checkpointer.start();
    assertTrue(started.await(10, TimeUnit.SECONDS));
    commitLong(PAGE_SIZE, 2);
    checkpointer.start();
    checkpointer.afterCommit();
    checkpointer.throwIfFailed();
    assertEquals(2, journal.generation(), "one checkpoint at a time");
    release.countDown();
    checkpointer.awaitRunning();
    assertEquals(1, overlay.size(), "the page committed meanwhile waits for the next checkpoint");
  }

  @Test
  void writesDuringACheckpointGoToCopiesThatStayInTheOverlay() throws Exception {
    open(FileAccess.DEFAULT);
    commitLong(0, 1);
    commitLong(PAGE_SIZE, 1);
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = holdCheckpoint(started);
    checkpointer.start();
    assertTrue(started.await(10, TimeUnit.SECONDS));
    commitLong(0, 2); // page 0 is frozen: written into a copy
    release.countDown();
    checkpointer.awaitRunning();
    assertEquals(1, fileLong(0), "the file has the frozen bytes");
    assertEquals(2, overlay.getLong(0), "the copy stays over them");
    assertEquals(1, overlay.size());
    assertEquals(List.of(Path.of("s.journal.2")), journals(), "which holds the copy's change");
  }

  @Test
  void aFailedCheckpointFailsTheStorageForGoodAndKeepsTheOldJournal() throws IOException {
    FailingFiles files = FailingFiles.storeFile();
    open(files);
    commitLong(8, 1);
    files.failWrites = true;
    checkpointer.start();
    StorageFailedException e = assertThrows(StorageFailedException.class, checkpointer::awaitRunning);
    assertTrue(e.getMessage().contains("checkpoint of"), e.getMessage());
    assertSame(e, failure.failed());
    assertThrows(StorageFailedException.class, checkpointer::throwIfFailed);
    assertThrows(StorageFailedException.class, checkpointer::start);
    assertEquals(List.of(Path.of("s.journal.1"), Path.of("s.journal.2")), journals(), "the next open replays it");
    assertEquals(1, overlay.size(), "its page stays in the overlay");
    assertEquals(1, overlay.getLong(8));
  }

  @Test
  void afterACommitBelowTheBoundsNoCheckpointStarts() throws IOException {
    open(FileAccess.DEFAULT);
    commitLong(8, 1);
    checkpointer.afterCommit();
    assertEquals(1, journal.generation());
    assertEquals(1, overlay.size());
  }
}
