package org.esmp.plugin.storage.mapdb;

import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the commit thread ends the store's open transaction, after a batch ({@link BatchWriter}) or a
 * trim chunk ({@link Retention}) alike. A commit is counted once {@link Store#commit()} returned. A
 * rollback counts up {@link CommittedView#rollbacks} after the store is rolled back, whether or not
 * that worked, and before the batch's pending records are dropped (see {@link CommittedView}); a
 * rollback that fails fails the storage for good.
 *
 * <p>{@link #commit} and {@link #rollback} are called by the commit thread only; {@link #commits}
 * and the hook by any thread.
 */
final class OpenTransaction {

  private static final Logger log = LoggerFactory.getLogger(OpenTransaction.class);

  private final Store store;
  private final CommittedView view;
  private final StorageFailure failure;
  private final AtomicLong commits = new AtomicLong();
  /** Test hook: runs on the commit thread after a batch or chunk is written, before it is committed. */
  volatile Runnable beforeCommit = () -> {};

  OpenTransaction(Store store, CommittedView view, StorageFailure failure) {
    this.store = store;
    this.view = view;
    this.failure = failure;
  }

  /** Runs the test hook, then commits the store durably: see {@link Store#commit()}. */
  void commit() {
    beforeCommit.run();
    store.commit();
    commits.incrementAndGet();
  }

  /** Undoes every write since the last commit; when that fails, fails the storage for good. */
  void rollback() {
    try {
      store.rollback();
    } catch (RuntimeException | Error e) {
      log.warn("Storage rollback failed", e);
      failure.fail("a rollback failed (" + e + ")", e);
    } finally {
      // After the rollback and before the pending ids are dropped: see CommittedView.
      view.rollbacks.incrementAndGet();
    }
  }

  /** How many times the store was committed. */
  long commits() {
    return commits.get();
  }
}
