package org.esmp.plugin.storage.postgres;

import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.esmp.api.ConflictException;
import org.esmp.api.DuplicateException;
import org.esmp.api.StorageFailedException;
import org.esmp.api.spi.StorageChange;
import org.postgresql.util.PSQLWarning;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs commits on the plugin's own thread, in the order they were submitted, several changes per
 * transaction (group commit): the thread takes every change waiting (up to {@value #MAX_BATCH}),
 * applies them in order in one transaction ({@link ChangeTransaction#applyAll}) and commits once,
 * one WAL flush for all. {@link #submit} returns at once.
 *
 * <p><b>Order.</b> Stages complete on one completion thread, in the order the changes were
 * submitted, after the transaction that carried them committed.
 *
 * <p><b>Wake-ups.</b> Once a change committed, the cursors of its appends go to {@link Committed}
 * (the {@link Notifier}, which tells the other servers outside any transaction).
 *
 * <p><b>Failures.</b> A change whose condition does not hold fails alone, having written nothing;
 * the others of its transaction commit. A deadlock or serialization failure (with another server's
 * transaction) runs the whole transaction again, up to {@value #MAX_ATTEMPTS} times. Any other
 * error of a transaction of several changes runs them again one transaction each, so that one
 * change the database refuses fails only itself. A database that is unreachable for a while (a
 * failover) fails the commits meanwhile, and later ones succeed again: that is not a failure of
 * the storage. Only what cannot heal by waiting ({@link #isPermanent}) completes {@link
 * #failure()}; from then on every commit is refused with it.
 */
final class Committer {

  private static final Logger log = LoggerFactory.getLogger(Committer.class);

  /** Changes that may wait for the commit thread; beyond that a commit fails at once. */
  static final int MAX_QUEUED = 100_000;
  /** Changes in one transaction at most. */
  static final int MAX_BATCH = 256;
  static final int MAX_ATTEMPTS = 20;
  /** SQLSTATEs that no retry or wait heals: data or index corruption, the plugin's tables gone. */
  private static final Set<String> PERMANENT = Set.of("XX001", "XX002", "42P01", "42703");
  /** PostgreSQL's routine that waits at a commit for the synchronous standby, and warns when cancelled. */
  private static final String SYNC_WAIT = "SyncRepWaitForLSN";

  private final DataSource pool;
  private final Entries entries;
  private final Committed committed;
  private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>(MAX_QUEUED);
  private final Thread writer;
  private final ExecutorService completions = Executors.newSingleThreadExecutor(threads("storage-postgres-completion"));
  private final CompletableFuture<StorageFailedException> failure = new CompletableFuture<>();
  private final AtomicReference<StorageFailedException> failed = new AtomicReference<>();
  private volatile boolean closed;

  Committer(DataSource pool, Entries entries, Committed committed) {
    this.pool = pool;
    this.entries = entries;
    this.committed = committed;
    writer = threads("storage-postgres-commit").newThread(this::run);
    writer.start();
  }

  CompletionStage<List<Long>> submit(StorageChange change) {
    CompletableFuture<List<Long>> result = new CompletableFuture<>();
    StorageFailedException stopped = failed.get();
    if (stopped != null) {
      completions.execute(() -> result.completeExceptionally(stopped));
      return result;
    }
    if (closed) {
      result.completeExceptionally(new IllegalStateException("storage-postgres is closed"));
    } else if (!queue.offer(new Pending(change, result))) {
      result.completeExceptionally(new IllegalStateException("storage-postgres: too many commits waiting"));
    }
    return result;
  }

  /** Completes once, when the storage failed for good. */
  CompletionStage<StorageFailedException> failure() {
    return failure;
  }

  private void run() {
    List<Pending> batch = new ArrayList<>(MAX_BATCH);
    while (true) {
      try {
        Pending first = queue.poll(100, TimeUnit.MILLISECONDS);
        if (first == null) {
          if (closed && queue.isEmpty()) {
            return;
          }
          continue;
        }
        batch.add(first);
        queue.drainTo(batch, MAX_BATCH - 1);
      } catch (InterruptedException e) {
        batch.addAll(queue);
        queue.clear();
        batch.forEach(p -> completions.execute(() -> p.result.completeExceptionally(
            new IllegalStateException("storage-postgres is closed"))));
        return;
      }
      commit(batch);
      batch.clear();
    }
  }

  /** Commits {@code batch} in one transaction; one at a time when that fails for another reason than a condition. */
  private void commit(List<Pending> batch) {
    StorageFailedException stopped = failed.get();
    if (stopped != null) {
      batch.forEach(p -> completions.execute(() -> p.result.completeExceptionally(stopped)));
      return;
    }
    boolean[] committing = {false};
    try {
      List<ChangeTransaction> transactions = new ArrayList<>(batch.size());
      for (Pending pending : batch) {
        transactions.add(new ChangeTransaction(pending.change, entries));
      }
      List<Object> outcomes = inTransaction(c -> ChangeTransaction.applyAll(c, transactions), () -> committing[0] = true);
      for (int i = 0; i < batch.size(); i++) {
        Pending pending = batch.get(i);
        Object outcome = outcomes.get(i);
        if (outcome instanceof Exception failed) {
          completions.execute(() -> pending.result.completeExceptionally(failed));
        } else {
          @SuppressWarnings("unchecked")
          List<Long> cursors = (List<Long>) outcome;
          committed.committed(pending.change, cursors);
          completions.execute(() -> pending.result.complete(cursors));
        }
      }
    } catch (Exception | Error e) {
      if (batch.size() > 1 && !committing[0] && !isPermanent(e)) {
        log.debug("storage-postgres: a transaction of {} changes failed ({}); committing them one at a time",
            batch.size(), e.toString());
        for (Pending pending : batch) {
          commit(List.of(pending));
        }
        return;
      }
      Throwable reported = reported(e, committing[0]);
      batch.forEach(p -> completions.execute(() -> p.result.completeExceptionally(reported)));
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
        try {
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
          connection.clearWarnings();
          connection.commit();
          checkReplicated(connection.getWarnings());
          return result;
        } catch (Error e) {
          discard(pool, connection);
          throw e;
        }
      }
    }
  }

  /**
   * Closes {@code connection} at once and takes it out of {@code pool}, for an {@link Error} thrown
   * while it was used: a stack overflow or an out-of-memory error inside the driver may leave a
   * message to the database half written, or an answer half read, and a connection so out of step
   * would give the next borrower a malformed statement or another statement's results. Neither the
   * driver nor the pool drops a connection for an {@code Error} by itself.
   */
  static void discard(DataSource pool, Connection connection) {
    try {
      connection.abort(Runnable::run);
    } catch (SQLException | RuntimeException e) {
      log.debug("storage-postgres: aborting a connection failed: {}", e.toString());
    }
    if (pool instanceof HikariDataSource hikari) {
      hikari.evictConnection(connection);
    }
  }

  /**
   * Throws when the commit's wait for a synchronous standby was cancelled (an operator's {@code
   * pg_cancel_backend}, the server shutting down): PostgreSQL then commits locally and says so in
   * a warning only, and the standby may not have the change. The caller reports the outcome
   * unknown rather than durable.
   */
  static void checkReplicated(SQLWarning warnings) throws SQLException {
    for (SQLWarning w = warnings; w != null; w = w.getNextWarning()) {
      // The warning of a cancel has no code of its own (01000) and its text is translated: the
      // server names the routine that gave up waiting.
      if (w instanceof PSQLWarning server && server.getServerErrorMessage() != null
          && SYNC_WAIT.equals(server.getServerErrorMessage().getRoutine())) {
        throw new SQLException("committed on the primary, but its wait for the synchronous standby was cancelled: "
            + w.getMessage(), w.getSQLState(), w);
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

  /** Lets the commits queued finish (for up to 60 s), then stops the threads. */
  void close() {
    closed = true;
    try {
      writer.join(60_000);
      if (writer.isAlive()) {
        log.warn("storage-postgres: commits still running after 60 s at close; stopping them");
        writer.interrupt();
        writer.join(5_000);
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

  /** Told of each change committed, on the commit thread, right after {@code COMMIT}, in order; never blocks nor throws. */
  interface Committed {
    void committed(StorageChange change, List<Long> cursors);
  }

  /** A change waiting for the commit thread, and the stage its outcome completes. */
  private record Pending(StorageChange change, CompletableFuture<List<Long>> result) {}

  /** Work in a transaction. */
  interface Work<T> {
    T apply(Connection connection) throws SQLException;
  }
}
