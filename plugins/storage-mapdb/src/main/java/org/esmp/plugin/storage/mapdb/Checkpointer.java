package org.esmp.plugin.storage.mapdb;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.esmp.api.StorageFailedException;
import org.esmp.plugin.storage.mapdb.PageOverlay.Page;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Background checkpoints, which bound the journal and the overlay: when the journal or the overlay
 * has grown past a bound, the overlay's pages are frozen (a later write to one copies it first),
 * later commits go to a new journal generation, and a thread of its own writes the frozen pages
 * into the store file, forces it, and only then deletes the old generation. Until then, the old
 * generation holds every change the file may lack. A page leaves the overlay only after its bytes
 * are in the file.
 *
 * <p>A failed checkpoint fails the storage for good (the old journal stays, and the next open
 * replays it): after a failed fdatasync of the file, syncing it again would prove nothing.
 *
 * <p>Threads: every method but {@link #await} is called by the volume's writer, under the
 * volume's lock; {@link #await} by any thread. One checkpoint at a time runs on the checkpoint
 * thread, which touches only the frozen pages, the store file's channel, the retired journal and
 * {@link PageOverlay#release}.
 */
final class Checkpointer {

  private static final Logger log = LoggerFactory.getLogger(Checkpointer.class);

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

  private final Path file;
  /** The store file, for the checkpoint's positional writes and fsync. */
  private final FileChannel baseChannel;
  private final Journal journal;
  private final PageOverlay overlay;
  private final StorageFailure failure;
  private final JournalOptions options;
  private final ExecutorService thread;
  private Future<?> running = CompletableFuture.completedFuture(null);
  /** Test hook: runs on the checkpoint thread before it writes into the file. */
  volatile Runnable beforeWrites = () -> {};

  Checkpointer(
      Path file,
      FileChannel baseChannel,
      Journal journal,
      PageOverlay overlay,
      StorageFailure failure,
      JournalOptions options) {
    this.file = file;
    this.baseChannel = baseChannel;
    this.journal = journal;
    this.overlay = overlay;
    this.failure = failure;
    this.options = options;
    this.thread =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread thread = new Thread(r, "storage-mapdb-checkpoint");
              thread.setDaemon(true);
              return thread;
            });
  }

  /**
   * After a commit: starts a checkpoint if the journal or the overlay has grown past its bound,
   * first waiting for the running one if the overlay has reached {@link #MAX_OVERLAY_PAGES}.
   *
   * @throws StorageFailedException if the running checkpoint failed
   * @throws UncheckedIOException if the next journal generation cannot be created
   */
  void afterCommit() {
    if (journal.size() >= CHECKPOINT_JOURNAL_BYTES || overlay.sinceCheckpoint() >= CHECKPOINT_PAGES) {
      if (overlay.sinceCheckpoint() >= MAX_OVERLAY_PAGES) {
        awaitRunning(); // the disk is slower than the commits: let the commits wait
      }
      start();
    }
  }

  /**
   * Moves later commits to a new journal generation, freezes the overlay's pages and has the
   * checkpoint thread write them into the file. Does nothing while the previous checkpoint still
   * runs (the next commit tries again). Only committed bytes may be in the overlay when this runs.
   *
   * @throws StorageFailedException if the previous checkpoint failed
   * @throws UncheckedIOException if the next journal generation cannot be created
   */
  void start() {
    if (!running.isDone()) {
      return;
    }
    awaitRunning(); // rethrows its failure, if it failed
    if (overlay.sinceCheckpoint() == 0) {
      return;
    }
    Journal.Retired retired;
    try {
      retired = journal.roll();
    } catch (IOException e) {
      throw new UncheckedIOException("storage-mapdb: cannot start a journal for " + file, e);
    }
    List<Page> frozen = overlay.freeze();
    running = thread.submit(() -> write(frozen, retired));
  }

  /**
   * Throws the last checkpoint's failure if it has ended so; does not wait for a running one.
   *
   * @throws StorageFailedException if it failed
   */
  void throwIfFailed() {
    if (running.isDone()) {
      awaitRunning();
    }
  }

  /**
   * Waits for the running checkpoint, if any.
   *
   * @throws StorageFailedException if it failed
   */
  void awaitRunning() {
    await(running);
  }

  /**
   * Keeps checkpoints from starting until {@code resumed} completes, as if a checkpoint ran until
   * then: for an online backup, which copies the store file while nothing writes into it. A commit
   * that finds the overlay at {@link #MAX_OVERLAY_PAGES} meanwhile waits for it, as it waits for a
   * slow checkpoint. Call it once the running checkpoint is over ({@link #awaitRunning}).
   *
   * @param resumed completes, normally, once the backup's copy is done; it must not fail (a
   *     failed checkpoint fails the storage)
   */
  void holdUntil(CompletableFuture<Void> resumed) {
    if (!running.isDone()) {
      throw new IllegalStateException("a checkpoint is running");
    }
    running = resumed;
  }

  /** The running (or last) checkpoint, for {@link #await} without the volume's lock. */
  Future<?> running() {
    return running;
  }

  /**
   * Waits for {@code checkpoint}; any thread.
   *
   * @throws StorageFailedException if it failed
   */
  void await(Future<?> checkpoint) {
    try {
      checkpoint.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted waiting for a checkpoint", e);
    } catch (ExecutionException e) {
      throw failure.fail("checkpoint of " + file + " failed (" + e.getCause() + ")", e.getCause());
    }
  }

  /** Lets the checkpoint thread end after the running checkpoint, if any; does not wait. */
  void shutdown() {
    thread.shutdown();
  }

  /**
   * Checkpoint thread: writes {@code frozen} into the file, forces it, then deletes the retired
   * journal. A failure fails the storage for good.
   */
  private void write(List<Page> frozen, Journal.Retired retired) {
    try {
      writeOrThrow(frozen, retired);
    } catch (IOException | RuntimeException | Error e) {
      throw failure.fail("checkpoint of " + file + " failed (" + e + ")", e);
    }
  }

  private void writeOrThrow(List<Page> frozen, Journal.Retired retired) throws IOException {
    beforeWrites.run();
    long started = System.nanoTime();
    frozen.sort(Comparator.comparingLong(page -> page.number));
    for (Page page : frozen) {
      FileAccess.writeFully(baseChannel, ByteBuffer.wrap(page.bytes), page.number << PageOverlay.PAGE_SHIFT);
    }
    baseChannel.force(false);
    options.afterStep().accept("checkpoint of journal " + retired.generation + " written");
    retired.delete();
    // After the file has the bytes, forced: a reader that finds no page reads them there.
    overlay.release(frozen);
    log.debug(
        "Checkpoint of {}: {} pages in {} ms", file, frozen.size(), (System.nanoTime() - started) / 1_000_000);
  }
}
