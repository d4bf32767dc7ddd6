package org.esmp.plugin.storage.mapdb;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.esmp.api.ConflictException;
import org.esmp.api.DuplicateException;
import org.esmp.api.StorageFailedException;
import org.esmp.api.spi.StorageChange;
import org.esmp.plugin.storage.mapdb.CommittedView.Mailbox;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commits a batch of changes: applies them in queue order ({@link ChangeApplier}), commits the
 * store once, and then completes their futures in queue order, on the calling thread.
 *
 * <p>Each change's conditions ({@link StorageChange}) are checked just before it is applied, against
 * the open transaction, which holds every change committed and every change of the batch applied
 * before it. A change whose condition fails is skipped and fails with its {@link ConflictException}
 * or {@link DuplicateException} once the batch is committed; the others of its batch are committed.
 *
 * <p>A batch that fails is rolled back and its futures fail; later batches are served unless the
 * storage failed for good ({@link StorageFailure}: a failed journal write, sync or checkpoint, a
 * failed rollback, the commit thread breaking), after which every change fails with that
 * {@link StorageFailedException}, without a log line per batch (the server logs the failure once).
 * A batch whose record is too large for the journal ({@link RecordTooLargeException}) is committed
 * in halves, down to the change too large alone, which alone fails. Other failures are logged at
 * most once per second each.
 *
 * <p>Called by the commit thread only, the store's only writer; the counters are read by any.
 */
final class BatchWriter {

  private static final Logger log = LoggerFactory.getLogger(BatchWriter.class);

  private final Store store;
  private final CommittedView view;
  private final Records records;
  private final OpenTransaction transaction;
  private final StorageFailure failure;
  private final LogLimiter errors = new LogLimiter(log);
  private final AtomicLong committedChanges = new AtomicLong();
  // Where a batch's time goes, for measurement: writing into the transaction vs committing it.
  private final AtomicLong applyNanos = new AtomicLong();
  private final AtomicLong commitNanos = new AtomicLong();
  /** The id the next new mailbox gets. */
  private long nextAddressId;

  BatchWriter(Store store, CommittedView view, Records records, OpenTransaction transaction, StorageFailure failure) {
    this.store = store;
    this.view = view;
    this.records = records;
    this.transaction = transaction;
    this.failure = failure;
    nextAddressId = view.mailboxes.values().stream().mapToLong(Mailbox::id).max().orElse(0) + 1;
  }

  /** Commits {@code batch} and completes each change's future, in order. */
  void commit(List<ChangeTask> batch) {
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
        commit(new ArrayList<>(batch.subList(0, half)));
        commit(new ArrayList<>(batch.subList(half, batch.size())));
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

  /** How many changes were committed, those refused by their conditions included. */
  long committedChanges() {
    return committedChanges.get();
  }

  /** Nanoseconds spent writing batches into the open transaction. */
  long applyNanos() {
    return applyNanos.get();
  }

  /** Nanoseconds spent committing batches. */
  long commitNanos() {
    return commitNanos.get();
  }

  /** After the commit or rollback: the batch's accepted ids and plugin values stop being pending. */
  private void clearPending(List<ChangeTask> batch) {
    for (ChangeTask task : batch) {
      task.change.accepted().ifPresent(a -> view.pendingIds.remove(a.id().hex()));
    }
    view.values.clearPending();
    view.kept.clearPending();
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
}
