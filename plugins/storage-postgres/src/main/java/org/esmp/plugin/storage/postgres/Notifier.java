package org.esmp.plugin.storage.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.esmp.api.Address;
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
 *
 * <p><b>Ephemeral messages</b> ({@link #live}) go out on the same thread and connection, on the
 * channel {@value Live#CHANNEL}, sealed ({@link LiveKey}): in the payload when it fits, else in a
 * row of {@code live_messages} (deleted {@value #LIVE_ROW_SECONDS} s later) named by the payload.
 * Best effort: at most {@value #MAX_LIVE_WAITING} messages ({@value #MAX_LIVE_WAITING_BYTES} bytes)
 * wait; one over {@value #MAX_LIVE_BYTES} bytes, one past those bounds and those of a send that
 * failed are dropped, with a warning at most once a minute. They share nothing with the commits
 * but the lock that queues them: they never hold one up.
 */
final class Notifier implements Committer.Committed {

  private static final Logger log = LoggerFactory.getLogger(Notifier.class);

  static final int MAX_PENDING = 10_000;
  private static final long MAX_BACKOFF_MILLIS = 5_000;
  /** The largest frame of an ephemeral message sent to the other servers. */
  static final int MAX_LIVE_BYTES = 1 << 20;
  static final int MAX_LIVE_WAITING = 1_000;
  static final int MAX_LIVE_WAITING_BYTES = 8 << 20;
  /** How long a row of {@code live_messages} stays, at least: the other servers read it at once. */
  static final int LIVE_ROW_SECONDS = 60;
  private static final long LIVE_TRIM_NANOS = TimeUnit.SECONDS.toNanos(10);

  private final DataSource database;
  private final String node;
  private final Thread thread;
  private final Warnings warnings = new Warnings(log);
  private final LiveKey key;
  private final Warnings liveWarnings = new Warnings(log);
  private final Object lock = new Object();
  /** Highest cursor committed by address, not sent yet. Guarded by lock. */
  private Map<String, Long> pending = new HashMap<>();
  /** Hints were dropped: the next send is a catch-up. Guarded by lock. */
  private boolean dropped;
  private boolean closed; // guarded by lock
  /** Ephemeral messages to send, oldest first, and their weight. Guarded by lock. */
  private ArrayDeque<Waiting> live = new ArrayDeque<>();
  private long liveWeight; // guarded by lock
  private Connection connection; // the thread's
  private long sequence; // the thread's: the last ephemeral message's number
  /** The thread's: System.nanoTime() of the last trim of live_messages; at first, due already. */
  private long lastLiveTrim = System.nanoTime() - LIVE_TRIM_NANOS - 1;

  Notifier(DataSource database, String node, LiveKey key) {
    this.database = database;
    this.node = node;
    this.key = key;
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

  /**
   * Queues an ephemeral message for the other servers ({@link org.esmp.api.spi.Storage#publishLive});
   * never blocks, never throws: past the bounds it is dropped, with a warning.
   */
  void live(Collection<Address> recipients, byte[] frame) {
    if (recipients.isEmpty()) {
      return;
    }
    if (frame.length > MAX_LIVE_BYTES) {
      liveWarnings.warn("storage-postgres: an ephemeral message not sent to the other servers: {}",
          frame.length + " bytes, over " + MAX_LIVE_BYTES);
      return;
    }
    Waiting message = new Waiting(List.copyOf(recipients), frame);
    synchronized (lock) {
      if (closed) {
        return;
      }
      if (live.size() < MAX_LIVE_WAITING && liveWeight + message.weight() <= MAX_LIVE_WAITING_BYTES) {
        live.add(message);
        liveWeight += message.weight();
        lock.notifyAll();
        return;
      }
    }
    liveWarnings.warn("storage-postgres: an ephemeral message not sent to the other servers: {}",
        "too many waiting (at most " + MAX_LIVE_WAITING + ", " + MAX_LIVE_WAITING_BYTES + " bytes)");
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
      ArrayDeque<Waiting> messages;
      synchronized (lock) {
        try {
          while (pending.isEmpty() && !dropped && live.isEmpty() && !closed) {
            lock.wait();
          }
        } catch (InterruptedException e) {
          break;
        }
        if (pending.isEmpty() && !dropped && live.isEmpty()) {
          break; // closed, all sent
        }
        batch = pending;
        catchUp = dropped;
        pending = new HashMap<>();
        dropped = false;
        messages = live;
        live = new ArrayDeque<>();
        liveWeight = 0;
        last = closed;
      }
      if (!messages.isEmpty()) {
        sendLive(messages);
      }
      if (batch.isEmpty() && !catchUp) {
        continue;
      }
      try {
        send(Hints.CHANNEL, catchUp ? List.of(Hints.catchUp(node)) : Hints.encode(node, batch));
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

  /** All of {@code payloads} on {@code channel} in one statement: one round trip, one (tiny) transaction. */
  private void send(String channel, List<String> payloads) throws SQLException {
    if (payloads.isEmpty()) {
      return;
    }
    connect();
    try (PreparedStatement notify =
        connection.prepareStatement("SELECT count(pg_notify('" + channel + "', p)) FROM unnest(?::text[]) AS t(p)")) {
      notify.setArray(1, connection.createArrayOf("text", payloads.toArray()));
      notify.executeQuery().close();
    }
  }

  private void connect() throws SQLException {
    if (connection == null) {
      connection = database.getConnection();
      connection.setAutoCommit(true);
    }
  }

  /**
   * Sends {@code messages} in order, each numbered and sealed: those that fit in a payload
   * together, each other one as a row and the payload naming it. Never throws: a failure loses
   * them (with a warning), and the connection is opened again for what comes next.
   */
  private void sendLive(ArrayDeque<Waiting> messages) {
    int total = messages.size();
    try {
      List<String> payloads = new ArrayList<>();
      boolean rows = false;
      while (!messages.isEmpty()) {
        Waiting message = messages.peek();
        byte[] sealed = key.seal(node, Live.Message.of(++sequence, System.currentTimeMillis(), message.recipients(), message.frame()).encode());
        Optional<String> payload = Live.inline(node, sealed, Hints.MAX_BYTES);
        if (payload.isPresent()) {
          payloads.add(payload.get());
        } else {
          send(Live.CHANNEL, payloads); // those before it first: the order is kept
          payloads.clear();
          insertRow(sealed);
          rows = true;
        }
        messages.poll();
      }
      send(Live.CHANNEL, payloads);
      if (rows && System.nanoTime() - lastLiveTrim > LIVE_TRIM_NANOS) {
        trimLiveRows();
      }
    } catch (SQLException | RuntimeException e) {
      liveWarnings.warn("storage-postgres: ephemeral messages not sent to the other servers (lost): {}",
          (total - messages.size()) + " of " + total + " may have been sent, then " + e);
      closeConnection();
    }
  }

  /** One row, and the payload naming it: one statement, so the row is there when it is read. */
  private void insertRow(byte[] sealed) throws SQLException {
    connect();
    try (PreparedStatement insert = connection.prepareStatement(
        "WITH r AS (INSERT INTO live_messages (sealed) VALUES (?) RETURNING id)"
            + " SELECT pg_notify('" + Live.CHANNEL + "', ? || r.id::text) FROM r")) {
      insert.setBytes(1, sealed);
      insert.setString(2, Live.rowPrefix(node));
      insert.executeQuery().close();
    }
  }

  /** Deletes the rows of {@code live_messages} older than {@value #LIVE_ROW_SECONDS} s, whoever wrote them. */
  private void trimLiveRows() throws SQLException {
    connect();
    try (Statement delete = connection.createStatement()) {
      delete.executeUpdate(trimLiveRowsSql());
    }
    lastLiveTrim = System.nanoTime();
  }

  /** The statement deleting the rows of {@code live_messages} past their time; also run by retention. */
  static String trimLiveRowsSql() {
    return "DELETE FROM live_messages WHERE created_at < now() - interval '" + LIVE_ROW_SECONDS + " seconds'";
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

  /** An ephemeral message waiting to be sent. */
  private record Waiting(List<Address> recipients, byte[] frame) {
    /** Roughly what it holds in memory. */
    int weight() {
      return frame.length + 64 * recipients.size() + 64;
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
