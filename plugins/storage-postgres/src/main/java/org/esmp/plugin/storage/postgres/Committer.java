package org.esmp.plugin.storage.postgres;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.esmp.api.ConflictException;
import org.esmp.api.DuplicateException;
import org.esmp.api.StorageFailedException;
import org.esmp.api.spi.StorageChange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs commits on the plugin's own threads, each change one transaction on a connection of the
 * write pool; several at once (PostgreSQL groups their WAL flushes). {@link #submit} returns at
 * once.
 *
 * <p><b>Order.</b> Stages complete on one completion thread, in the order the transactions were
 * committed: each takes a ticket just before its {@code COMMIT}, and completes only after every
 * earlier ticket did. A change that waited for another's row lock (the same mailbox) takes its
 * ticket after that one's, so its cursors are never announced first.
 *
 * <p><b>Wake-ups.</b> Once a change committed, the cursors of its appends go to {@link Committed}
 * (the {@link Notifier}, which tells the other servers outside any transaction).
 *
 * <p><b>Failures.</b> A deadlock or serialization failure is retried here, up to {@value
 * #MAX_ATTEMPTS} times. A database that is unreachable for a while (a failover) fails the commits
 * meanwhile, and later ones succeed again: that is not a failure of the storage. Only what cannot
 * heal by waiting ({@link #isPermanent}) completes {@link #failure()}; from then on every commit
 * is refused with it.
 */
final class Committer {

  private static final Logger log = LoggerFactory.getLogger(Committer.class);

  /** Changes that may wait for a commit thread; beyond that a commit fails at once. */
  static final int MAX_QUEUED = 100_000;
  static final int MAX_ATTEMPTS = 20;
  /** SQLSTATEs that no retry or wait heals: data or index corruption, the plugin's tables gone. */
  private static final Set<String> PERMANENT = Set.of("XX001", "XX002", "42P01", "42703");

  private final DataSource pool;
  private final Entries entries;
  private final Committed committed;
  private final ThreadPoolExecutor writers;
  private final ExecutorService completions = Executors.newSingleThreadExecutor(threads("storage-postgres-completion"));
  private final CompletableFuture<StorageFailedException> failure = new CompletableFuture<>();
  private final AtomicReference<StorageFailedException> failed = new AtomicReference<>();
  /** Completions of committed transactions by ticket, waiting for the earlier ones. Guarded by itself. */
  private final TreeMap<Long, Runnable> finished = new TreeMap<>();
  private long nextTicket; // guarded by finished
  private long nextToComplete; // guarded by finished

  Committer(DataSource pool, Entries entries, int threads, Committed committed) {
    this.pool = pool;
    this.entries = entries;
    this.committed = committed;
    this.writers = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(MAX_QUEUED), threads("storage-postgres-commit"));
  }

  CompletionStage<List<Long>> submit(StorageChange change) {
    CompletableFuture<List<Long>> result = new CompletableFuture<>();
    StorageFailedException stopped = failed.get();
    if (stopped != null) {
      completions.execute(() -> result.completeExceptionally(stopped));
      return result;
    }
    try {
      writers.execute(() -> commit(change, result));
    } catch (RejectedExecutionException e) {
      result.completeExceptionally(new IllegalStateException(
          writers.isShutdown() ? "storage-postgres is closed" : "storage-postgres: too many commits waiting", e));
    }
    return result;
  }

  /** Completes once, when the storage failed for good. */
  CompletionStage<StorageFailedException> failure() {
    return failure;
  }

  private void commit(StorageChange change, CompletableFuture<List<Long>> result) {
    long[] ticket = {-1};
    try {
      ChangeTransaction transaction = new ChangeTransaction(change, entries);
      List<Long> cursors = inTransaction(transaction::apply, () -> ticket[0] = takeTicket());
      committed.committed(change, cursors);
      complete(ticket[0], () -> result.complete(cursors));
    } catch (Exception | Error e) {
      Throwable reported = reported(e, ticket[0] >= 0);
      if (ticket[0] >= 0) {
        complete(ticket[0], () -> result.completeExceptionally(reported));
      } else {
        completions.execute(() -> result.completeExceptionally(reported));
      }
    }
  }

  /** What a commit fails with for {@code e}; completes {@link #failure()} when {@code e} is permanent. */
  private Throwable reported(Throwable e, boolean committing) {
    if (e instanceof ConflictException || e instanceof DuplicateException || e instanceof StorageFailedException) {
      return e;
    }
    if (isPermanent(e)) {
      StorageFailedException permanent = new StorageFailedException(
          "storage-postgres: the database cannot store changes any more: " + e.getMessage(), e);
      if (failed.compareAndSet(null, permanent)) {
        completions.execute(() -> failure.complete(permanent));
      }
      return failed.get();
    }
    if (committing) {
      return new IllegalStateException(
          "storage-postgres: the commit's outcome is unknown (the change may be stored): " + e.getMessage(), e);
    }
    if (e instanceof SQLException) {
      return new IllegalStateException("storage-postgres: nothing was stored: " + e.getMessage(), e);
    }
    return e;
  }

  /** Whether {@code e} (or its cause) reports what no retry nor wait heals. */
  static boolean isPermanent(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException sql && sql.getSQLState() != null && PERMANENT.contains(sql.getSQLState())) {
        return true;
      }
    }
    return false;
  }

  /**
   * Runs {@code work} in one transaction on a connection of the write pool, on this (plugin)
   * thread, and commits, retrying a deadlock or serialization failure; {@code beforeCommit} runs
   * once, just before the commit that counts. Throws what {@code work} threw (after a rollback), or
   * what made the database refuse.
   */
  <T> T inTransaction(Work<T> work, Runnable beforeCommit) throws SQLException {
    for (int attempt = 1; ; attempt++) {
      try (Connection connection = pool.getConnection()) {
        T result;
        try {
          result = work.apply(connection);
        } catch (SQLException | RuntimeException e) {
          rollbackQuietly(connection);
          if (isRetryable(e) && attempt < MAX_ATTEMPTS) {
            backOff(attempt);
            continue;
          }
          throw e;
        }
        beforeCommit.run();
        connection.commit();
        return result;
      }
    }
  }

  /** Deadlock detected, or a serialization failure: the transaction may run again as it was. */
  private static boolean isRetryable(Exception e) {
    return e instanceof SQLException sql && ("40P01".equals(sql.getSQLState()) || "40001".equals(sql.getSQLState()));
  }

  private static void backOff(int attempt) {
    try {
      Thread.sleep(ThreadLocalRandom.current().nextLong(1, 2 + Math.min(attempt, 10) * 5L));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void rollbackQuietly(Connection connection) {
    try {
      connection.rollback();
    } catch (SQLException e) {
      log.debug("storage-postgres: rollback failed (the connection is dropped): {}", e.toString());
    }
  }

  private long takeTicket() {
    synchronized (finished) {
      return nextTicket++;
    }
  }

  /** Completes ticket {@code ticket} with {@code completion} once every earlier ticket completed. */
  private void complete(long ticket, Runnable completion) {
    synchronized (finished) {
      finished.put(ticket, completion);
      while (!finished.isEmpty() && finished.firstKey() == nextToComplete) {
        // The completion thread runs them in the order they are handed to it.
        completions.execute(finished.pollFirstEntry().getValue());
        nextToComplete++;
      }
    }
  }

  /** Lets the commits queued finish, then stops the threads. */
  void close() {
    writers.shutdown();
    try {
      if (!writers.awaitTermination(60, TimeUnit.SECONDS)) {
        log.warn("storage-postgres: commits still running after 60 s at close; stopping them");
        writers.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    completions.shutdown();
  }

  static java.util.concurrent.ThreadFactory threads(String name) {
    AtomicInteger count = new AtomicInteger();
    return runnable -> {
      Thread thread = new Thread(runnable, name + "-" + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }

  /** Told of each change committed, on its commit thread, right after {@code COMMIT}; never blocks nor throws. */
  interface Committed {
    void committed(StorageChange change, List<Long> cursors);
  }

  /** Work in a transaction. */
  interface Work<T> {
    T apply(Connection connection) throws SQLException;
  }
}
