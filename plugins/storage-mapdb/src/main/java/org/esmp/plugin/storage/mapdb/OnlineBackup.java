package org.esmp.plugin.storage.mapdb;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The online backup ({@link MapDbStorage#backup}): a copy of the store as it was between two
 * commits, taken while commits go on.
 *
 * <ol>
 *   <li>A backup point is queued to the commit thread ({@link GroupCommitter#backupPoint}): once
 *       every change queued before it is committed, the commit thread holds checkpoints (waiting
 *       for a running one first) and notes the store file's length and the current journal's. That
 *       is the instant the backup shows; it takes no disk write, and the next batch follows.
 *   <li>With checkpoints held, only a checkpoint writes into the store file, so the file holds the
 *       store as of the last checkpoint, unchanged, and the journal every commit since, appended
 *       to and never rewritten: this thread copies the file's first bytes and the journal's up to
 *       the noted lengths. Commits go on into the journal meanwhile (they wait only if the overlay
 *       reaches its bound, {@link Checkpointer#MAX_OVERLAY_PAGES}, as they do behind a slow
 *       checkpoint). Then checkpoints resume.
 *   <li>The copy is opened as the server would open it: its journal is replayed into its file,
 *       every collection read through ({@link Store#verify}), and a checkpoint on close leaves one
 *       file, {@value MapDbStorage#FILE_NAME}, with no journal. A backup that would not open fails
 *       here rather than later, at a restore.
 * </ol>
 *
 * <p>One backup at a time: another waits for its turn, off the commit thread. Files are created
 * readable by their owner only and forced to disk.
 */
final class OnlineBackup {

  private static final Logger log = LoggerFactory.getLogger(OnlineBackup.class);

  private final Store store;
  private final GroupCommitter committer;
  private final Records records;
  private final Semaphore one = new Semaphore(1);
  /** Test hook: runs on the backup's thread once the backup point is taken, before the copy. */
  volatile Runnable afterPoint = () -> {};

  OnlineBackup(Store store, GroupCommitter committer, Records records) {
    this.store = store;
    this.committer = committer;
    this.records = records;
  }

  /**
   * Writes the backup into {@code directory}'s {@value MapDbStorage#DIRECTORY} subdirectory, which
   * must not exist. Blocks; called on a thread of its own.
   *
   * @throws IOException when the copy cannot be written
   * @throws org.esmp.api.StorageFailedException when the storage failed
   * @throws IllegalStateException when the copy does not open, or the storage is closed
   */
  void write(Path directory) throws IOException {
    one.acquireUninterruptibly();
    try {
      Path target = directory.resolve(MapDbStorage.DIRECTORY);
      if (!OwnerOnly.createDirectory(target)) {
        throw new IOException(target + " exists already");
      }
      Path file = target.resolve(MapDbStorage.FILE_NAME);
      long started = System.nanoTime();
      // Off the commit thread first: the point rarely has a checkpoint to wait for.
      store.volume().awaitCheckpointDone();
      CompletableFuture<Void> resumed = new CompletableFuture<>();
      JournaledVolume.Snapshot snapshot;
      try {
        snapshot = await(committer.backupPoint(resumed));
        afterPoint.run();
        copy(store.file, file, snapshot.fileBytes());
        copy(snapshot.journal(), target.resolve(store.file.getFileName() + ".journal.1"), snapshot.journalBytes());
      } finally {
        resumed.complete(null);
      }
      OwnerOnly.syncDirectory(target);
      Store copy = Store.open(file, new StorageFailure(), JournalOptions.DEFAULT);
      try {
        copy.verify(records);
      } finally {
        copy.close();
      }
      log.info("Backup of {} written to {} in {} ms", store.file, file, (System.nanoTime() - started) / 1_000_000);
    } finally {
      one.release();
    }
  }

  /** Copies the first {@code bytes} of {@code source} into the new file {@code target}, forced. */
  private static void copy(Path source, Path target, long bytes) throws IOException {
    try (FileChannel in = FileChannel.open(source, StandardOpenOption.READ);
        FileChannel out = FileChannel.open(target, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
            OwnerOnly.fileAttributes(target.toAbsolutePath().getParent()))) {
      if (in.size() < bytes) {
        throw new IOException(source + " holds " + in.size() + " bytes, fewer than the " + bytes + " to copy");
      }
      long position = 0;
      while (position < bytes) {
        position += in.transferTo(position, bytes - position, out);
      }
      out.force(true);
    }
  }

  private static <T> T await(CompletableFuture<T> future) throws IOException {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted waiting for the backup point");
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new IllegalStateException("the backup point failed: " + e.getCause(), e.getCause());
    }
  }
}
