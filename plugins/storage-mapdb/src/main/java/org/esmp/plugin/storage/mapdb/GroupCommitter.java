package org.esmp.plugin.storage.mapdb;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.esmp.api.StorageFailedException;
import org.esmp.api.spi.StorageChange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The only writer of the store: one thread that takes every change queued so far (up to
 * {@link #MAX_BATCH_WEIGHT} writes and about {@link #MAX_BATCH_BYTES} bytes of values) and commits
 * them together ({@link BatchWriter}), which completes their futures in queue order. A commit costs
 * a disk sync (of the journal, see {@link JournaledVolume}), so batching is where throughput comes
 * from. A trim ({@link Retention}) runs on the same thread in chunks, each its own commit: one chunk
 * after each batch, and one after another while no change is queued. A backup point ({@link
 * #backupPoint}) is taken there too, between two batches: it ends the batch it is queued behind.
 *
 * <p>These fail at once, alone: a change that cannot be encoded (changes are encoded on the
 * caller's thread, see {@link ChangeTask}); a change beyond {@code maxQueued} waiting ones, with a
 * {@link RejectedExecutionException}; a change or trim after {@link #close}, with an
 * {@link IllegalStateException}; and once the storage failed for good, a change or trim with that
 * {@link StorageFailedException} (those queued before fail with it in their batch or chunk). If
 * this thread breaks (a bug), the storage fails for good and everything queued fails with it.
 *
 * <p>{@link #submit} and {@link #trim} are thread-safe and never block; {@link #close} waits for
 * the changes queued before it to be committed; trims not ended by then fail.
 */
final class GroupCommitter {

  private static final Logger log = LoggerFactory.getLogger(GroupCommitter.class);

  /** Most writes (appends, key changes, accepted ids) one commit takes. */
  static final int MAX_BATCH_WEIGHT = 8192;
  /**
   * Most bytes of values (mailbox entries, accepted records, plugin values) one commit takes, so
   * that a batch of large messages makes a journal record of tens of MiB, not of hundreds. A
   * single change larger than this is committed alone.
   */
  static final long MAX_BATCH_BYTES = 32L << 20;

  private final Store store;
  private final Records records;
  private final StorageFailure failure;
  private final int maxQueued;
  private final BlockingQueue<Task> queue = new LinkedBlockingQueue<>();
  private final AtomicInteger queuedChanges = new AtomicInteger();
  // Read-held while enqueueing, write-held to close: nothing can be queued behind STOP.
  private final ReadWriteLock closing = new ReentrantReadWriteLock();
  private final Thread thread;
  private final OpenTransaction transaction;
  private final BatchWriter writer;
  private final Retention retention;
  private volatile boolean closed;

  /** Ready to {@link #start}; at most {@code maxQueued} changes wait. */
  GroupCommitter(Store store, CommittedView view, Records records, StorageFailure failure, int maxQueued) {
    this.store = store;
    this.records = records;
    this.failure = failure;
    this.maxQueued = maxQueued;
    transaction = new OpenTransaction(store, view, failure);
    writer = new BatchWriter(store, view, records, transaction, failure);
    retention = new Retention(store, view, transaction, failure);
    thread = new Thread(this::run, "storage-mapdb-commit");
    thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  /** Queues {@code change}; the future completes on the commit thread with its cursors. */
  CompletableFuture<List<Long>> submit(StorageChange change) {
    CompletableFuture<List<Long>> future = new CompletableFuture<>();
    ChangeTask task;
    try {
      // Encoding here spreads the JSON work over the callers' threads; a change that cannot be
      // encoded fails alone instead of failing its batch.
      task = ChangeTask.prepare(change, records, future);
    } catch (RuntimeException e) {
      future.completeExceptionally(e);
      return future;
    }
    if (queuedChanges.incrementAndGet() > maxQueued) {
      queuedChanges.decrementAndGet();
      future.completeExceptionally(
          new RejectedExecutionException("storage-mapdb: " + maxQueued + " changes already queued"));
      return future;
    }
    if (!enqueue(task, future)) {
      queuedChanges.decrementAndGet();
    }
    return future;
  }

  /**
   * Queues a backup point: once every change queued before it is committed, and before any queued
   * after it is applied, the commit thread holds checkpoints until {@code resumed} completes and
   * completes the returned future with what to copy ({@link JournaledVolume#holdCheckpoints}).
   * {@code resumed} must complete in any case, even when this fails.
   */
  CompletableFuture<JournaledVolume.Snapshot> backupPoint(CompletableFuture<Void> resumed) {
    CompletableFuture<JournaledVolume.Snapshot> future = new CompletableFuture<>();
    enqueue(new BackupPoint(resumed, future), future);
    return future;
  }

  /**
   * Queues a trim ({@link Retention}); the future completes with the number of mailbox entries
   * deleted.
   */
  CompletableFuture<Long> trim(long receivedBefore) {
    CompletableFuture<Long> future = new CompletableFuture<>();
    enqueue(new Retention.Trim(receivedBefore, future), future);
    return future;
  }

  private boolean enqueue(Task task, CompletableFuture<?> future) {
    closing.readLock().lock();
    try {
      if (closed) {
        future.completeExceptionally(new IllegalStateException("storage-mapdb is closed"));
        return false;
      }
      StorageFailedException failed = failure.failed();
      if (failed != null) {
        future.completeExceptionally(failed);
        return false;
      }
      queue.add(task);
      return true;
    } finally {
      closing.readLock().unlock();
    }
  }

  /**
   * Stops taking changes, commits what is queued and closes the store. Idempotent; when called on
   * the commit thread itself (from a future's callback) it does not wait.
   */
  void close() {
    closing.writeLock().lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      queue.add(Stop.STOP);
    } finally {
      closing.writeLock().unlock();
    }
    if (Thread.currentThread() != thread) {
      boolean interrupted = false;
      while (thread.isAlive()) {
        try {
          thread.join();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** How many times the store was committed; package-private for tests and measurement. */
  long dbCommits() {
    return transaction.commits();
  }

  /** Test hook: runs on the commit thread after a batch or trim chunk is written, before its commit. */
  void beforeCommit(Runnable hook) {
    transaction.beforeCommit = hook;
  }

  /** How many changes were committed. */
  long committedChanges() {
    return writer.committedChanges();
  }

  /** Nanoseconds spent writing batches into the transaction, for measurement. */
  long applyNanos() {
    return writer.applyNanos();
  }

  /** Nanoseconds spent committing batches, for measurement. */
  long commitNanos() {
    return writer.commitNanos();
  }

  private void run() {
    ArrayDeque<Retention.Trim> trims = new ArrayDeque<>();
    List<ChangeTask> batch = new ArrayList<>();
    BackupPoint point = null;
    try {
      boolean stopping = false;
      while (!stopping) {
        Task next = trims.isEmpty() ? takeUninterruptibly() : queue.poll();
        int weight = 0;
        long bytes = 0;
        while (next != null) {
          if (next == Stop.STOP) {
            stopping = true;
            break;
          }
          if (next instanceof BackupPoint backup) {
            point = backup; // after the batch so far, before anything queued after it
            break;
          }
          if (next instanceof Retention.Trim trim) {
            trims.add(trim);
          } else {
            ChangeTask change = (ChangeTask) next;
            batch.add(change);
            weight += change.weight();
            bytes += change.bytes;
          }
          next = weight < MAX_BATCH_WEIGHT && bytes < MAX_BATCH_BYTES ? queue.poll() : null;
        }
        if (!batch.isEmpty()) {
          queuedChanges.addAndGet(-batch.size());
          writer.commit(batch);
          batch.clear();
        }
        if (point != null) {
          point.take(store.volume());
          point = null;
        }
        if (!trims.isEmpty() && !stopping && retention.trimChunk(trims.peek())) {
          trims.poll();
        }
      }
      for (Retention.Trim trim : trims) {
        trim.future.completeExceptionally(new IllegalStateException("storage-mapdb closed before the trim ended"));
      }
    } catch (RuntimeException | Error e) {
      // A bug, not a disk: worth its stack trace, once (the server logs the failure at ERROR).
      log.warn("The storage commit thread broke", e);
      StorageFailedException failure;
      // Under the lock: a task is either queued before this, and failed below, or refused.
      closing.writeLock().lock();
      try {
        failure = this.failure.fail("the commit thread broke (" + e + ")", e);
      } finally {
        closing.writeLock().unlock();
      }
      batch.forEach(t -> t.future.completeExceptionally(failure));
      trims.forEach(t -> t.future.completeExceptionally(failure));
      if (point != null) {
        point.future.completeExceptionally(failure);
      }
      // Tasks queued from now on fail in enqueue; those already queued fail here.
      for (Task t; (t = queue.poll()) != null; ) {
        if (t instanceof ChangeTask c) {
          c.future.completeExceptionally(failure);
        } else if (t instanceof Retention.Trim tt) {
          tt.future.completeExceptionally(failure);
        } else if (t instanceof BackupPoint b) {
          b.future.completeExceptionally(failure);
        }
      }
    } finally {
      try {
        store.close();
        log.info("Closed storage file {}", store.file);
      } catch (RuntimeException | Error e) {
        log.warn("Closing storage file {} failed: {}", store.file, e.toString());
      }
    }
  }

  private Task takeUninterruptibly() {
    while (true) {
      try {
        return queue.take();
      } catch (InterruptedException e) {
        // Only close() ends this thread, after committing what is queued.
      }
    }
  }

  /** What the commit thread takes from its queue. */
  sealed interface Task permits ChangeTask, Retention.Trim, BackupPoint, Stop {}

  /** A queued backup point: see {@link #backupPoint}. */
  private record BackupPoint(CompletableFuture<Void> resumed, CompletableFuture<JournaledVolume.Snapshot> future)
      implements Task {

    /** On the commit thread, between batches: holds checkpoints and says what to copy. */
    void take(JournaledVolume volume) {
      try {
        future.complete(volume.holdCheckpoints(resumed));
      } catch (RuntimeException e) {
        future.completeExceptionally(e);
      }
    }
  }

  private enum Stop implements Task {
    STOP
  }
}
