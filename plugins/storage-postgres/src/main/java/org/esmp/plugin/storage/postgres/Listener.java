package org.esmp.plugin.storage.postgres;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.esmp.api.Address;
import org.esmp.api.spi.MailboxWatcher;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands the other servers' wake-ups to a {@link MailboxWatcher}: one thread, on a connection of
 * its own (not from the pools) that {@code LISTEN}s on {@value Hints#CHANNEL} and waits with the
 * driver's {@link PGConnection#getNotifications(int)}. It skips its own storage's payloads and
 * ignores malformed ones. A connection that breaks (or falls silent: it is pinged after {@value
 * #PING_MILLIS} ms without traffic) is opened again with backoff, and then {@link
 * MailboxWatcher#missed()} is called, since what was notified meanwhile is lost; so is it when a
 * sender tells it lost hints.
 */
final class Listener {

  private static final Logger log = LoggerFactory.getLogger(Listener.class);

  /** How long one wait for notifications lasts: the delay of {@link #close()} at most. */
  static final int POLL_MILLIS = 250;
  static final long PING_MILLIS = 10_000;
  private static final long MAX_BACKOFF_MILLIS = 5_000;

  private final DataSource database;
  private final String node;
  private final MailboxWatcher watcher;
  private final Thread thread;
  private final CountDownLatch firstAttempt = new CountDownLatch(1);
  private final Warnings warnings = new Warnings(log);
  private volatile boolean closed;

  Listener(DataSource database, String node, MailboxWatcher watcher) {
    this.database = database;
    this.node = node;
    this.watcher = watcher;
    thread = Committer.threads("storage-postgres-listen").newThread(this::run);
  }

  /**
   * Starts listening; returns once the first {@code LISTEN} is in place (so that what commits
   * after reaches the watcher), or after it failed or took over {@code waitMillis} (then the
   * thread goes on trying, and calls {@code missed()} once it listens).
   */
  void start(long waitMillis) {
    thread.start();
    try {
      firstAttempt.await(waitMillis, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void run() {
    boolean missing = false;
    long backoff = 0;
    while (!closed) {
      try (Connection connection = database.getConnection()) {
        connection.setAutoCommit(true);
        try (Statement listen = connection.createStatement()) {
          listen.execute("LISTEN " + Hints.CHANNEL);
        }
        firstAttempt.countDown();
        backoff = 0;
        if (missing) {
          missing = false;
          log.info("storage-postgres: listening for the other servers' appends again");
          callWatcher(watcher::missed);
        }
        listen(connection);
      } catch (SQLException | RuntimeException e) {
        firstAttempt.countDown();
        if (closed) {
          break;
        }
        missing = true;
        warnings.warn("storage-postgres: lost the channel of the other servers' appends (reconnecting): {}", e);
        backoff = Math.min(MAX_BACKOFF_MILLIS, Math.max(100, backoff * 2));
        pause(backoff);
      }
    }
  }

  /** Hands on what arrives on {@code connection} until the storage closes or the connection breaks. */
  private void listen(Connection connection) throws SQLException {
    PGConnection notifications = connection.unwrap(PGConnection.class);
    long lastHeard = System.nanoTime();
    while (!closed) {
      PGNotification[] received = notifications.getNotifications(POLL_MILLIS);
      if (received != null && received.length > 0) {
        lastHeard = System.nanoTime();
        deliver(received);
      } else if (System.nanoTime() - lastHeard > TimeUnit.MILLISECONDS.toNanos(PING_MILLIS)) {
        // A connection whose peer vanished (a failover) may stay silent: a query finds out.
        try (Statement ping = connection.createStatement()) {
          ping.execute("SELECT 1");
        }
        lastHeard = System.nanoTime();
      }
    }
  }

  /** The newest cursor per address among {@code received}, each told once; a catch-up once. */
  private void deliver(PGNotification[] received) {
    Map<Address, Long> newest = new HashMap<>();
    boolean catchUp = false;
    for (PGNotification notification : received) {
      Optional<Hints.Hint> hint = Hints.decode(notification.getParameter());
      if (hint.isEmpty()) {
        log.debug("storage-postgres: ignored a malformed payload on {}", Hints.CHANNEL);
        continue;
      }
      if (hint.get().node().equals(node)) {
        continue;
      }
      catchUp |= hint.get().catchUp();
      hint.get().cursors().forEach((address, cursor) -> newest.merge(address, cursor, Math::max));
    }
    if (catchUp) {
      callWatcher(watcher::missed);
    }
    newest.forEach((address, cursor) -> callWatcher(() -> watcher.appended(address, cursor)));
  }

  private static void callWatcher(Runnable call) {
    try {
      call.run();
    } catch (RuntimeException e) {
      log.warn("storage-postgres: the mailbox watcher failed: {}", e.toString());
    }
  }

  private void pause(long millis) {
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    while (!closed && System.nanoTime() < until) {
      try {
        Thread.sleep(Math.min(POLL_MILLIS, Math.max(1, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime()))));
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** Stops the thread: within about {@value #POLL_MILLIS} ms, unless a (re)connect is under way. */
  void close() {
    closed = true;
    try {
      thread.join(2_000);
      if (thread.isAlive()) {
        thread.interrupt();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
