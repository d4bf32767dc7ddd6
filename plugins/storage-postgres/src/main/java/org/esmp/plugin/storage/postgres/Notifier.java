package org.esmp.plugin.storage.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.esmp.api.spi.StorageChange;
import org.esmp.api.Writes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Announces this storage's appends to the other servers of the cluster, after their transactions
 * committed: never inside one (a NOTIFY in a transaction takes a lock that serializes every commit
 * of the database). Commits only record, per address, the highest cursor they produced ({@link
 * #committed}, which never blocks nor fails); one thread sends what accumulated meanwhile, as {@code
 * pg_notify} payloads ({@link Hints}) on a connection of its own, in autocommit.
 *
 * <p><b>Bounded.</b> At most {@value #MAX_PENDING} addresses wait. Past that, and after a send that
 * failed, the hints waiting are dropped for one catch-up payload: every listener then reads all it
 * follows again ({@link org.esmp.api.spi.MailboxWatcher#missed()}). A lost hint costs latency, never
 * data, so a failure to notify is logged (at most once a minute) and never fails a commit.
 */
final class Notifier implements Committer.Committed {

  private static final Logger log = LoggerFactory.getLogger(Notifier.class);

  static final int MAX_PENDING = 10_000;
  private static final long MAX_BACKOFF_MILLIS = 5_000;

  private final DataSource database;
  private final String node;
  private final Thread thread;
  private final Warnings warnings = new Warnings(log);
  private final Object lock = new Object();
  /** Highest cursor committed by address, not sent yet. Guarded by lock. */
  private Map<String, Long> pending = new HashMap<>();
  /** Hints were dropped: the next send is a catch-up. Guarded by lock. */
  private boolean dropped;
  private boolean closed; // guarded by lock
  private Connection connection; // the thread's

  Notifier(DataSource database, String node) {
    this.database = database;
    this.node = node;
    thread = Committer.threads("storage-postgres-notify").newThread(this::run);
    thread.start();
  }

  /** Records the cursors a committed change's appends got (in order); called right after its commit. */
  @Override
  public void committed(StorageChange change, List<Long> cursors) {
    if (cursors.isEmpty()) {
      return;
    }
    List<Writes.Append> appends = change.writes().appends();
    synchronized (lock) {
      if (closed) {
        return;
      }
      for (int i = 0; i < cursors.size(); i++) {
        String address = appends.get(i).address().toString();
        if (pending.size() >= MAX_PENDING && !pending.containsKey(address)) {
          drop();
          return;
        }
        pending.merge(address, cursors.get(i), Math::max);
      }
      lock.notifyAll();
    }
  }

  private void drop() { // holding lock
    pending = new HashMap<>();
    dropped = true;
    lock.notifyAll();
  }

  private void run() {
    long backoff = 0;
    while (true) {
      Map<String, Long> batch;
      boolean catchUp;
      boolean last;
      synchronized (lock) {
        try {
          while (pending.isEmpty() && !dropped && !closed) {
            lock.wait();
          }
        } catch (InterruptedException e) {
          break;
        }
        if (pending.isEmpty() && !dropped) {
          break; // closed, all sent
        }
        batch = pending;
        catchUp = dropped;
        pending = new HashMap<>();
        dropped = false;
        last = closed;
      }
      try {
        send(catchUp ? List.of(Hints.catchUp(node)) : Hints.encode(node, batch));
        backoff = 0;
      } catch (SQLException | RuntimeException e) {
        warnings.warn("storage-postgres: cannot notify the other servers of appends (they catch up later): {}", e);
        closeConnection();
        synchronized (lock) {
          drop();
          if (last || closed) {
            break;
          }
          backoff = Math.min(MAX_BACKOFF_MILLIS, Math.max(100, backoff * 2));
          try {
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoff);
            for (long left = backoff; left > 0 && !closed; left = TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime())) {
              lock.wait(left);
            }
          } catch (InterruptedException interrupted) {
            break;
          }
        }
      }
    }
    closeConnection();
  }

  /** All of {@code payloads} in one statement: one round trip, one (tiny) transaction. */
  private void send(List<String> payloads) throws SQLException {
    if (connection == null) {
      connection = database.getConnection();
      connection.setAutoCommit(true);
    }
    try (PreparedStatement notify =
        connection.prepareStatement("SELECT count(pg_notify('" + Hints.CHANNEL + "', p)) FROM unnest(?::text[]) AS t(p)")) {
      notify.setArray(1, connection.createArrayOf("text", payloads.toArray()));
      notify.executeQuery().close();
    }
  }

  private void closeConnection() {
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException e) {
        log.debug("storage-postgres: closing the notify connection: {}", e.toString());
      }
      connection = null;
    }
  }

  /** Sends what waits (one attempt), then stops the thread; returns within about two seconds. */
  void close() {
    synchronized (lock) {
      closed = true;
      lock.notifyAll();
    }
    try {
      thread.join(2_000);
      if (thread.isAlive()) {
        thread.interrupt();
        thread.join(1_000);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
