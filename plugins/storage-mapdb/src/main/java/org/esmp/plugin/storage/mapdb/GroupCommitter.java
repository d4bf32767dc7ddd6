package org.esmp.plugin.storage.mapdb;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.esmp.api.ConflictException;
import org.esmp.api.DuplicateException;
import org.esmp.api.StorageFailedException;
import org.esmp.api.spi.StorageChange;
import org.esmp.plugin.storage.mapdb.CommittedView.Mailbox;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The only writer of the store: one thread that takes every change queued so far (up to
 * {@link #MAX_BATCH_WEIGHT} writes and about {@link #MAX_BATCH_BYTES} bytes of values), applies
 * them, commits once, and then completes their futures in order. A commit costs a disk sync (of
 * the journal, see {@link JournaledVolume}), so batching is where throughput comes from. A trim
 * ({@link Retention}) runs in chunks, each its own commit, between batches.
 *
 * <p>Each change's conditions ({@link StorageChange}) are checked just before it is applied, in
 * queue order, against the open transaction, which holds every change committed and every change
 * of the batch applied before it: this thread is the only writer, so nothing can come between a
 * check and its writes. A change whose condition fails is skipped and fails with its
 * {@link ConflictException} or {@link DuplicateException} once the batch is committed.
 *
 * <p>A batch that fails is rolled back and its futures fail; later batches are served unless the
 * storage failed for good ({@link StorageFailure}: a failed journal write, sync or checkpoint, a
 * failed rollback, this thread breaking), after which every change fails with that
 * {@link StorageFailedException}, without a log line per batch (the server logs the failure once).
 * A batch whose record is too large for the journal is committed in halves, down to the change too
 * large alone, which alone fails. Other failures are logged at most once per second each.
 *
 * <p>{@link #submit} and {@link #trim} are thread-safe and never block; {@link #close} waits for
 * the queue to be committed.
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
  private final CommittedView view;
  private final Records records;
  private final int maxQueued;
  private final BlockingQueue<Task> queue = new LinkedBlockingQueue<>();
  private final AtomicInteger queuedChanges = new AtomicInteger();
  // Read-held while enqueueing, write-held to close: nothing can be queued behind STOP.
  private final ReadWriteLock closing = new ReentrantReadWriteLock();
  private final Thread thread;
  private final AtomicLong committedChanges = new AtomicLong();
  // Where a batch's time goes, for measurement: writing into the transaction vs db.commit().
  final AtomicLong applyNanos = new AtomicLong();
  final AtomicLong commitNanos = new AtomicLong();
  /** The id the next new mailbox gets; only the commit thread uses it. */
  private long nextAddressId;
  private final StorageFailure failure;
  private final OpenTransaction transaction;
  private final Retention retention;
  private final LogLimiter errors = new LogLimiter(log);
  private volatile boolean closed;

  GroupCommitter(Store store, CommittedView view, Records records, StorageFailure failure, int maxQueued) {
    this.store = store;
    this.failure = failure;
    this.view = view;
    this.records = records;
    this.maxQueued = maxQueued;
    transaction = new OpenTransaction(store, view, failure);
    retention = new Retention(store, view, transaction, failure);
    nextAddressId = view.mailboxes.values().stream().mapToLong(Mailbox::id).max().orElse(0) + 1;
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

  /** Queues a trim ({@link Retention}); the future completes with the number of mailbox entries deleted. */
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

  /** Test hook: runs on the commit thread after a batch or trim chunk is written, before it is committed. */
  void beforeCommit(Runnable hook) {
    transaction.beforeCommit = hook;
  }

  /** How many changes were committed. */
  long committedChanges() {
    return committedChanges.get();
  }

  private void run() {
    ArrayDeque<Retention.Trim> trims = new ArrayDeque<>();
    List<ChangeTask> batch = new ArrayList<>();
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
          commitBatch(batch);
          batch.clear();
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
      // Tasks queued from now on fail in enqueue; those already queued fail here.
      for (Task t; (t = queue.poll()) != null; ) {
        if (t instanceof ChangeTask c) {
          c.future.completeExceptionally(failure);
        } else if (t instanceof Retention.Trim tt) {
          tt.future.completeExceptionally(failure);
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

  private void commitBatch(List<ChangeTask> batch) {
    StorageFailedException failed = failure.failed();
    if (failed != null) {
      failAll(batch, failed);
      return;
    }
    ChangeApplier changes = new ChangeApplier(store, view, records, nextAddressId);
    List<List<Long>> cursors = new ArrayList<>(batch.size());
    RuntimeException[] refusals = new RuntimeException[batch.size()];
    long started = System.nanoTime();
    try {
      for (int i = 0; i < batch.size(); i++) {
        ChangeTask task = batch.get(i);
        refusals[i] = changes.refusal(task);
        if (refusals[i] != null) {
          cursors.add(null);
          continue;
        }
        cursors.add(changes.apply(task));
      }
      changes.writeIndexes();
      long applied = System.nanoTime();
      applyNanos.addAndGet(applied - started);
      transaction.commit();
      commitNanos.addAndGet(System.nanoTime() - applied);
    } catch (RuntimeException | Error e) {
      transaction.rollback();
      clearPending(batch);
      failed = failure.failed();
      RecordTooLargeException tooLarge = causeOf(e, RecordTooLargeException.class);
      if (failed != null) {
        failAll(batch, failed);
      } else if (tooLarge != null && batch.size() > 1) {
        // Which change made it too large is unknown: halves, each committed on its own.
        int half = batch.size() / 2;
        commitBatch(new ArrayList<>(batch.subList(0, half)));
        commitBatch(new ArrayList<>(batch.subList(half, batch.size())));
      } else if (tooLarge != null) {
        errors.warn("A change refused: " + tooLarge.getMessage(), null);
        failAll(batch, tooLarge);
      } else {
        errors.error("Storage commit of a batch failed, rolled back: " + e, e);
        failAll(batch, e);
      }
      return;
    }
    nextAddressId = changes.nextAddressId();
    changes.publish();
    clearPending(batch);
    committedChanges.addAndGet(batch.size());
    for (int i = 0; i < batch.size(); i++) {
      if (refusals[i] != null) {
        batch.get(i).future.completeExceptionally(refusals[i]);
      } else {
        batch.get(i).future.complete(cursors.get(i));
      }
    }
  }

  private void clearPending(List<ChangeTask> batch) {
    for (ChangeTask task : batch) {
      task.change.accepted().ifPresent(a -> view.pendingIds.remove(a.id().hex()));
    }
    view.values.clearPending();
  }

  /** {@code e} or its first cause of {@code type}, or null. */
  private static <T extends Throwable> T causeOf(Throwable e, Class<T> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
    }
    return null;
  }

  private static void failAll(List<ChangeTask> batch, Throwable cause) {
    for (ChangeTask task : batch) {
      task.future.completeExceptionally(cause);
    }
  }

  /** What the commit thread takes from its queue. */
  sealed interface Task permits ChangeTask, Retention.Trim, Stop {}

  private enum Stop implements Task {
    STOP
  }
}
