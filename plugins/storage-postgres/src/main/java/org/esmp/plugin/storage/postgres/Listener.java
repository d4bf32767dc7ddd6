package org.esmp.plugin.storage.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.LinkedHashMap;
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
 *
 * <p>On the same connection it listens on {@value Live#CHANNEL} for the other servers' ephemeral
 * messages: it reads a message's row when the payload names one, opens it ({@link LiveKey}: one
 * not sealed with the cluster's key is ignored, with a warning at most once a minute), takes it
 * only if its number is above the last it took from that sender and it is less than {@value
 * #MAX_LIVE_AGE_MILLIS} ms old (a payload sent again is ignored), and hands it to {@link
 * MailboxWatcher#live}. What is sent while it reconnects is lost.
 */
final class Listener {

  private static final Logger log = LoggerFactory.getLogger(Listener.class);

  /** How long one wait for notifications lasts: the delay of {@link #close()} at most. */
  static final int POLL_MILLIS = 250;
  static final long PING_MILLIS = 10_000;
  private static final long MAX_BACKOFF_MILLIS = 5_000;
  /**
   * How old (or how far ahead, by this server's clock) an ephemeral message may be: older ones are
   * dropped. The servers' clocks must agree within it.
   */
  static final long MAX_LIVE_AGE_MILLIS = 60_000;
  /** Senders whose last message number is remembered; the least recently heard is forgotten. */
  static final int MAX_SENDERS = 1_024;

  private final DataSource database;
  private final String node;
  private final MailboxWatcher watcher;
  private final LiveKey key;
  private final Warnings liveWarnings = new Warnings(log);
  /** The number of the last ephemeral message taken, by sender. The thread's. */
  private final Map<String, Long> lastTaken = new LinkedHashMap<>(64, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
      return size() > MAX_SENDERS;
    }
  };
  private final Thread thread;
  private final CountDownLatch firstAttempt = new CountDownLatch(1);
  private final Warnings warnings = new Warnings(log);
  private volatile boolean closed;

  Listener(DataSource database, String node, MailboxWatcher watcher, LiveKey key) {
    this.database = database;
    this.node = node;
    this.watcher = watcher;
    this.key = key;
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
          listen.execute("LISTEN " + Live.CHANNEL);
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
        deliver(connection, received);
      } else if (System.nanoTime() - lastHeard > TimeUnit.MILLISECONDS.toNanos(PING_MILLIS)) {
        // A connection whose peer vanished (a failover) may stay silent: a query finds out.
        try (Statement ping = connection.createStatement()) {
          ping.execute("SELECT 1");
        }
        lastHeard = System.nanoTime();
      }
    }
  }

  /**
   * The ephemeral messages among {@code received}, in order; then the newest cursor per address,
   * each told once, and a catch-up once.
   */
  private void deliver(Connection connection, PGNotification[] received) throws SQLException {
    Map<Address, Long> newest = new HashMap<>();
    boolean catchUp = false;
    for (PGNotification notification : received) {
      if (Live.CHANNEL.equals(notification.getName())) {
        live(connection, notification.getParameter());
        continue;
      }
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

  /** Hands on the ephemeral message {@code payload} carries or names, if it is one to take. */
  private void live(Connection connection, String payload) throws SQLException {
    Optional<Live.Notice> notice = Live.decode(payload);
    if (notice.isEmpty()) {
      log.debug("storage-postgres: ignored a malformed payload on {}", Live.CHANNEL);
      return;
    }
    String sender = notice.get().node();
    if (sender.equals(node)) {
      return;
    }
    byte[] sealed = notice.get().sealed().orElse(null);
    if (sealed == null) {
      sealed = row(connection, notice.get().row().getAsLong());
      if (sealed == null) {
        log.debug("storage-postgres: an ephemeral message's row was gone before it was read");
        return;
      }
    }
    Optional<Live.Message> message = key.open(sender, sealed).flatMap(Live.Message::decode);
    if (message.isEmpty()) {
      liveWarnings.warn("storage-postgres: ignored a payload on " + Live.CHANNEL + " not sealed with the cluster's key"
          + " (from a role that may connect to the database but not read its tables?): {}", payload.length() + " bytes");
      return;
    }
    long age = System.currentTimeMillis() - message.get().sentAt();
    if (Math.abs(age) > MAX_LIVE_AGE_MILLIS) {
      liveWarnings.warn("storage-postgres: ignored an ephemeral message from another server: {}", "sent " + age
          + " ms ago by its clock and ours (sent again later, or the servers' clocks differ)");
      return;
    }
    long number = message.get().sequence();
    Long last = lastTaken.get(sender);
    if (last != null && number <= last) {
      log.debug("storage-postgres: ignored ephemeral message {} of {} sent again", number, sender);
      return;
    }
    lastTaken.put(sender, number);
    callWatcher(() -> watcher.live(message.get().recipients(), message.get().frame()));
  }

  private static byte[] row(Connection connection, long id) throws SQLException {
    try (PreparedStatement select = connection.prepareStatement("SELECT sealed FROM live_messages WHERE id = ?")) {
      select.setLong(1, id);
      try (ResultSet rows = select.executeQuery()) {
        return rows.next() ? rows.getBytes(1) : null;
      }
    }
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
