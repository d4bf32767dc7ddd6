package org.esmp.plugin.storage.postgres;

import static org.esmp.api.testkit.StorageFixtures.address;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.esmp.api.Address;
import org.esmp.api.spi.MailboxWatcher;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * Messages of ephemeral types across two storages on one database (two servers of a cluster):
 * small ones in the NOTIFY payload, large ones through a row, sealed, in order, each once, a
 * storage's own never back to itself.
 */
class LiveMessagesTest {

  private static final Address BOB = address("bob");
  private static final Address CAROL = address("carol");

  @RegisterExtension static final PostgresDatabases databases = new PostgresDatabases();
  private PostgresStorage one;
  private PostgresStorage two;
  private final Watcher onOne = new Watcher();
  private final Watcher onTwo = new Watcher();

  @BeforeEach
  void twoNodes() {
    one = databases.open(2);
    two = databases.open(2);
    one.watch(onOne);
    two.watch(onTwo);
  }

  /** A deliver frame of about {@code bytes} bytes whose body is {@code text} repeated. */
  private static byte[] frame(String text, int bytes) {
    String body = text.repeat(Math.max(1, bytes / text.length()));
    return ("{\"type\":\"deliver\",\"cursor\":null,\"id\":\"" + "ab".repeat(32) + "\",\"message\":{\"type\":\"typing\","
        + "\"body\":{\"text\":\"" + body + "\"}}}").getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void smallAndLargeMessagesReachTheOtherStorageInOrderAndItsOwnDoNotComeBack() throws Exception {
    byte[] small = frame("small ", 200);
    byte[] large = frame("large ", 100_000); // far over a NOTIFY payload: through a row
    byte[] after = frame("after ", 3_000);
    one.publishLive(List.of(BOB), small);
    one.publishLive(List.of(BOB, CAROL), large);
    one.publishLive(List.of(CAROL), after);

    List<Received> heard = onTwo.await(3);
    assertEquals(List.of(BOB), heard.get(0).recipients());
    assertArrayEquals(small, heard.get(0).frame());
    assertEquals(Set.of(BOB, CAROL), Set.copyOf(heard.get(1).recipients()));
    assertArrayEquals(large, heard.get(1).frame(), "the large one whole");
    assertEquals(List.of(CAROL), heard.get(2).recipients());
    assertArrayEquals(after, heard.get(2).frame());
    assertEquals(1, databases.count("SELECT count(*) FROM live_messages"), "only the large one went through a row");

    // Then the other way: one hears two's, and nothing of its own before it (notifications arrive
    // in the order they were sent, and one's were all sent before this one).
    byte[] back = frame("back ", 100);
    two.publishLive(List.of(BOB), back);
    List<Received> heardOnOne = onOne.await(1);
    assertArrayEquals(back, heardOnOne.get(0).frame());
    assertEquals(1, onOne.size(), "one's own three never came back to it");
    assertEquals(3, onTwo.size());
  }

  @Test
  void aMessageOverTheCapIsDroppedAtOnceAndTheNextOneStillGoes() throws Exception {
    byte[] tooLarge = frame("x", Notifier.MAX_LIVE_BYTES + 1);
    long began = System.nanoTime();
    one.publishLive(List.of(BOB), tooLarge);
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);
    assertTrue(millis < 1_000, "publishLive returned after " + millis + " ms");
    byte[] next = frame("next ", 100);
    one.publishLive(List.of(BOB), next);
    List<Received> heard = onTwo.await(1);
    // Had the large one been sent, it would have arrived first.
    assertArrayEquals(next, heard.get(0).frame());
    assertEquals(1, onTwo.size());
    assertEquals(0, databases.count("SELECT count(*) FROM live_messages"));
  }

  /**
   * While the database does not answer, at most {@value Notifier#MAX_LIVE_WAITING} messages (and
   * {@value Notifier#MAX_LIVE_WAITING_BYTES} bytes) wait; those past the bounds are dropped at
   * once, and the ones waiting go, in order, once the database answers again.
   */
  @Test
  void whileTheDatabaseIsAwayMessagesWaitUpToTheBoundsAndThoseBeyondAreDropped() throws Exception {
    List<byte[]> counted = new ArrayList<>();
    for (int i = 0; i < Notifier.MAX_LIVE_WAITING + 50; i++) {
      counted.add(frame("count " + i + " ", 100));
    }
    List<Received> heard = whileHeld(counted);
    assertEquals(Notifier.MAX_LIVE_WAITING, heard.size(), "as many as wait at most");
    for (int i = 0; i < heard.size(); i++) {
      assertArrayEquals(counted.get(i), heard.get(i).frame(), "the first ones, in order");
    }

    // The bytes bound: 900 kB each, so 9 fit in 8 MiB and the 10th does not.
    List<byte[]> large = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      large.add(frame("large " + i + " ", 900_000));
    }
    heard = whileHeld(large);
    assertEquals(9, heard.size());
    for (int i = 0; i < heard.size(); i++) {
      assertArrayEquals(large.get(i), heard.get(i).frame());
    }
  }

  /**
   * Publishes {@code frames} through a new notifier whose database does not answer meanwhile, then
   * lets it answer; returns what the other storage heard of them, in order.
   */
  private List<Received> whileHeld(List<byte[]> frames) throws Exception {
    HeldDatabase held = new HeldDatabase(databases.url());
    // A node of its own each time: a listener takes a node's numbers once, in order.
    String node = java.util.HexFormat.of().toHexDigits(java.util.concurrent.ThreadLocalRandom.current().nextLong());
    Notifier notifier = new Notifier(held, node, LiveKey.of(held));
    int before = onTwo.size();
    try {
      held.hold();
      byte[] first = frame("first " + before + " ", 100);
      notifier.live(List.of(BOB), first);
      held.awaitWaiting(); // the notifier's thread took the first and waits for a connection
      long began = System.nanoTime();
      for (byte[] frame : frames) {
        notifier.live(List.of(BOB), frame);
      }
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);
      assertTrue(millis < 5_000, "publishing took " + millis + " ms: it never waits for the database");
      held.release();
      // Hearing the one after the first means the notifier took all that waited at once: the
      // marker is not dropped for want of room.
      onTwo.await(before + 2);
      byte[] marker = frame("marker " + before + " ", 100);
      notifier.live(List.of(BOB), marker);
      // In order: whatever of the frames went arrives between the first and the marker.
      List<Received> heard = onTwo.awaitFrame(marker);
      assertArrayEquals(first, heard.get(before).frame());
      return heard.subList(before + 1, heard.size() - 1);
    } finally {
      held.release();
      notifier.close();
    }
  }

  @Test
  void aPayloadReadOnTheChannelIsSealedAndNeitherAForgeryNorTheSamePayloadSentAgainIsTaken() throws Exception {
    String secret = "a secret typed by bob ";
    try (Connection spy = DriverManager.getConnection(databases.url())) {
      try (Statement listen = spy.createStatement()) {
        listen.execute("LISTEN " + Live.CHANNEL);
      }
      one.publishLive(List.of(BOB), frame(secret, 300));
      onTwo.await(1);
      String payload = null;
      for (long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5); payload == null && System.nanoTime() < deadline; ) {
        PGNotification[] got = spy.unwrap(PGConnection.class).getNotifications(250);
        if (got != null && got.length > 0) {
          payload = got[0].getParameter();
        }
      }
      assertTrue(payload != null, "the test's own LISTEN heard the payload");
      String sealed = payload.substring(payload.indexOf("\n=") + 2);
      assertFalse(new String(Base64.getDecoder().decode(sealed), StandardCharsets.ISO_8859_1).contains("secret"),
          "sealed: a role that can only connect reads nothing");

      // The same payload again, as a role that listened could send it; and one it made up.
      String forged = payload.substring(0, payload.indexOf("\n=") + 2)
          + Base64.getEncoder().encodeToString(new byte[200]);
      try (PreparedStatement notify = spy.prepareStatement("SELECT pg_notify(?, ?), pg_notify(?, ?)")) {
        notify.setString(1, Live.CHANNEL);
        notify.setString(2, payload);
        notify.setString(3, Live.CHANNEL);
        notify.setString(4, forged);
        notify.executeQuery().close();
      }
    }
    byte[] later = frame("later ", 100);
    one.publishLive(List.of(BOB), later);
    List<Received> heard = onTwo.await(2);
    assertArrayEquals(later, heard.get(1).frame(), "neither the payload sent again nor the forgery was taken");
    assertEquals(2, onTwo.size());
  }

  /**
   * Sealed with the cluster's key by a sender this storage never heard (as after its restart, when
   * it has forgotten every sender's numbers): taken when fresh, not when over a minute old.
   */
  @Test
  void aSealedMessageOverAMinuteOldIsNotTaken() throws Exception {
    LiveKey key = new LiveKey(bytes("SELECT key FROM live_key"));
    String stranger = "0123456789abcdef";
    byte[] stale = frame("stale ", 100);
    byte[] fresh = frame("fresh ", 100);
    long now = System.currentTimeMillis();
    try (Connection connection = DriverManager.getConnection(databases.url());
        PreparedStatement notify = connection.prepareStatement("SELECT pg_notify(?, ?), pg_notify(?, ?)")) {
      notify.setString(1, Live.CHANNEL);
      notify.setString(2, Live.inline(stranger,
          key.seal(stranger, Live.Message.of(1, now - 61_000, List.of(BOB), stale).encode()), Hints.MAX_BYTES).orElseThrow());
      notify.setString(3, Live.CHANNEL);
      notify.setString(4, Live.inline(stranger,
          key.seal(stranger, Live.Message.of(2, now, List.of(BOB), fresh).encode()), Hints.MAX_BYTES).orElseThrow());
      notify.executeQuery().close();
    }
    List<Received> heard = onTwo.await(1);
    assertArrayEquals(fresh, heard.get(0).frame(), "the stale one was not taken");
    assertEquals(1, onTwo.size());
  }

  @Test
  void retentionDeletesTheRowsOfMessagesOlderThanAMinute() throws Exception {
    one.publishLive(List.of(BOB), frame("large ", 20_000));
    onTwo.await(1);
    assertEquals(1, databases.count("SELECT count(*) FROM live_messages"));
    two.trim(0).toCompletableFuture().get(30, TimeUnit.SECONDS);
    assertEquals(1, databases.count("SELECT count(*) FROM live_messages"), "a fresh row stays");
    databases.execute("UPDATE live_messages SET created_at = now() - interval '61 seconds'");
    two.trim(0).toCompletableFuture().get(30, TimeUnit.SECONDS);
    assertEquals(0, databases.count("SELECT count(*) FROM live_messages"));
  }

  private byte[] bytes(String sql) throws SQLException {
    try (Connection connection = DriverManager.getConnection(databases.url());
        Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery(sql)) {
      rows.next();
      return rows.getBytes(1);
    }
  }

  /** The test database, whose connections can be held back: a database that does not answer. */
  private static final class HeldDatabase extends org.postgresql.ds.PGSimpleDataSource {
    private final Object lock = new Object();
    private boolean held; // guarded by lock
    private int waiting; // guarded by lock

    HeldDatabase(String url) {
      setURL(url);
    }

    void hold() {
      synchronized (lock) {
        held = true;
      }
    }

    void release() {
      synchronized (lock) {
        held = false;
        lock.notifyAll();
      }
    }

    /** Returns once a caller waits in {@link #getConnection()}. */
    void awaitWaiting() throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      synchronized (lock) {
        while (waiting == 0) {
          long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
          assertTrue(left > 0, "nobody asked for a connection within 5 s");
          lock.wait(left);
        }
      }
    }

    @Override
    public Connection getConnection() throws SQLException {
      synchronized (lock) {
        waiting++;
        lock.notifyAll();
        try {
          while (held) {
            lock.wait();
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new SQLException("interrupted", e);
        } finally {
          waiting--;
        }
      }
      return super.getConnection();
    }
  }

  private record Received(List<Address> recipients, byte[] frame) {}

  /** Records the ephemeral messages it is handed. */
  private static final class Watcher implements MailboxWatcher {
    private final List<Received> live = new ArrayList<>();

    @Override
    public void appended(Address address, long cursor) {}

    @Override
    public void missed() {}

    @Override
    public synchronized void live(Collection<Address> recipients, byte[] frame) {
      live.add(new Received(List.copyOf(recipients), frame));
      notifyAll();
    }

    synchronized int size() {
      return live.size();
    }

    /** Waits until handed {@code frame}; every message handed until then, in order. */
    synchronized List<Received> awaitFrame(byte[] frame) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (live.stream().noneMatch(r -> java.util.Arrays.equals(r.frame(), frame))) {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        assertTrue(left > 0, "not handed the awaited message within 10 s; handed " + live.size());
        wait(left);
      }
      int at = 0;
      while (!java.util.Arrays.equals(live.get(at).frame(), frame)) {
        at++;
      }
      return List.copyOf(live.subList(0, at + 1));
    }

    /** Waits until handed {@code n} messages; the first {@code n}. */
    synchronized List<Received> await(int n) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (live.size() < n) {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        assertTrue(left > 0, "handed " + live.size() + " ephemeral messages within 5 s, not " + n);
        wait(left);
      }
      return List.copyOf(live.subList(0, n));
    }
  }
}
