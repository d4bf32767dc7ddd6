package org.esmp.server.cluster;

import static org.esmp.server.testing.Frames.assertAck;
import static org.esmp.server.testing.Frames.groupMessage;
import static org.esmp.server.testing.Frames.groupText;
import static org.esmp.server.testing.Frames.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;
import org.esmp.plugin.storage.postgres.TestPostgresReplication;
import org.esmp.server.testing.ChildServer;
import org.esmp.server.testing.Frames;
import org.esmp.server.testing.TestClient;
import org.esmp.server.testing.TestUser;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16's failover test: two ESMP servers of one domain (separate processes) on a PostgreSQL
 * primary with a synchronous standby, both named in a multi-host JDBC URL with {@code
 * targetServerType=primary}. Clients on both servers send direct messages and group posts; the
 * primary is killed with SIGKILL under that load and the standby promoted. The clients resend each
 * message that was not acknowledged (an error, or a broken connection) until it is; then every
 * acknowledged message is in its recipients' mailboxes exactly once, the group's {@code seq} is
 * gapless, a resend of a message acknowledged before the kill is answered as a duplicate, and live
 * push across the servers works again (their {@code LISTEN} connections are on the new primary).
 *
 * <p>Tagged {@value #TAG}: it is left out of the default build ({@code -Pfailover} runs it, see
 * docs/CLUSTER.md).
 */
@Tag(FailoverIT.TAG)
class FailoverIT {

  static final String TAG = "failover";
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Acks of the whole load before the primary is killed. */
  private static final int ACKS_BEFORE_KILL = 200;
  /** Acks each sender gets after the promotion before the load stops. */
  private static final int ACKS_AFTER_PROMOTION = 40;
  /** The time a failover manager takes to notice: the database is away this long. */
  private static final long OUTAGE_MILLIS = 1_000;

  @TempDir Path dir;

  @Test
  void thePrimaryKilledUnderLoadAndTheStandbyPromotedLoseNothingAcked() throws Exception {
    try (TestPostgresReplication postgres = TestPostgresReplication.start()) {
      String database = postgres.createDatabase();
      String settings = "storage: postgres\njdbc_url: \"" + postgres.url(database) + "\"\n";
      ChildServer.shareServerKey(dir.resolve("one"), dir.resolve("two"));
      try (ChildServer one = ChildServer.builder(dir.resolve("one"), dir.resolve("one.log")).settings(settings).start();
          ChildServer two = ChildServer.builder(dir.resolve("two"), dir.resolve("two.log")).settings(settings).start()) {
        failOverUnderLoad(postgres, database, one, two);
      }
    }
  }

  private void failOverUnderLoad(TestPostgresReplication postgres, String database, ChildServer one, ChildServer two)
      throws Exception {
    Supplier<String> logs = () -> one.log() + two.log() + postgres.logs();
    TestUser alice = TestUser.register(one.port(), "alice");
    TestUser carol = TestUser.register(one.port(), "carol");
    TestUser gina = TestUser.register(one.port(), "gina");
    TestUser bob = TestUser.register(two.port(), "bob");
    TestUser dave = TestUser.register(two.port(), "dave");
    TestUser hank = TestUser.register(two.port(), "hank");
    String group = UUID.randomUUID().toString();
    assertEquals(1, assertAck(gina.send(groupMessage("group_created", group, JsonObject.builder()
        .put("members", JsonArray.ofStrings(List.of(hank.address()))).build()))).path("seq").asLong());

    // Direct messages to recipients on both servers (one in three to both), and group posts from both.
    List<Sender> senders = List.of(
        new Sender(alice, one.port(), i -> text("alice " + i, i % 3 == 0
            ? new String[] {carol.address(), dave.address()} : new String[] {i % 2 == 0 ? carol.address() : dave.address()})),
        new Sender(bob, two.port(), i -> text("bob " + i, i % 3 == 0
            ? new String[] {carol.address(), dave.address()} : new String[] {i % 2 == 0 ? dave.address() : carol.address()})),
        new Sender(gina, one.port(), i -> groupText(group, "gina " + i)),
        new Sender(hank, two.port(), i -> groupText(group, "hank " + i)));
    senders.forEach(Sender::start);

    awaitAcks(senders, s -> ACKS_BEFORE_KILL / senders.size(), 60, logs);
    int[] beforeKill = senders.stream().mapToInt(s -> s.acked.size()).toArray();
    long killed = System.nanoTime();
    postgres.killPrimary();
    Thread.sleep(OUTAGE_MILLIS);
    postgres.promoteStandby();
    long promoted = System.nanoTime();
    int[] atPromotion = senders.stream().mapToInt(s -> s.acked.size()).toArray();
    awaitAcks(senders, s -> atPromotion[senders.indexOf(s)] + ACKS_AFTER_PROMOTION, 120, logs);
    senders.forEach(Sender::finish);
    for (Sender sender : senders) {
      sender.join(logs);
    }
    System.out.printf("FailoverIT: acked before the kill %s, at the promotion %s, in all %s; resends %d after %d"
            + " internal answers and %d broken connections, %d answered as duplicates; the kill to the promotion"
            + " %d ms, the promotion to the first ack %d ms%n",
        Arrays.toString(beforeKill), Arrays.toString(atPromotion),
        senders.stream().map(s -> s.acked.size()).toList(), senders.stream().mapToInt(s -> s.resends.get()).sum(),
        senders.stream().mapToInt(s -> s.errorAnswers.get()).sum(),
        senders.stream().mapToInt(s -> s.brokenConnections.get()).sum(),
        senders.stream().mapToInt(s -> s.resentDuplicates.get()).sum(), (promoted - killed) / 1_000_000,
        (senders.stream().mapToLong(s -> s.firstAckAfter(promoted)).min().orElseThrow() - promoted) / 1_000_000);
    assertTrue(senders.stream().mapToInt(s -> s.resends.get()).sum() > 0,
        "the load went through the switch: some messages were resent");

    // Every message sent was acked in the end (each resent until it was): each recipient's mailbox,
    // read from cursor 0 on the other server, holds exactly the messages acked to it, once each.
    for (TestUser recipient : List.of(carol, dave)) {
      int other = recipient == carol ? two.port() : one.port();
      Set<String> expected = new HashSet<>();
      for (Sender sender : senders.subList(0, 2)) {
        sender.acked.stream().filter(a -> a.to.contains(recipient.address())).forEach(a -> expected.add(a.id));
      }
      List<String> mailbox = Frames.mailboxIds(recipient.reconnect(other).client(), recipient.key());
      assertEquals(mailbox.size(), Set.copyOf(mailbox).size(), recipient.address() + ": a message stored twice");
      assertEquals(expected, Set.copyOf(mailbox), recipient.address() + "'s mailbox is what was acked to it" + logs.get());
    }

    // The group: every post acked under its own seq, gapless from the creation on; each member's
    // mailbox holds the thread in order, each post under the seq its ack gave.
    Map<String, Long> ackedSeqs = new HashMap<>();
    for (Sender sender : senders.subList(2, 4)) {
      sender.acked.forEach(a -> ackedSeqs.put(a.id, a.seq));
    }
    long last = 1 + ackedSeqs.size();
    assertEquals(LongStream.rangeClosed(2, last).boxed().collect(Collectors.toSet()), Set.copyOf(ackedSeqs.values()),
        "each post acked under a seq of its own, gapless");
    for (TestUser member : List.of(gina, hank)) {
      List<JsonNode> thread = member.reconnect(member == gina ? two.port() : one.port()).syncAll(0).stream()
          .filter(f -> group.equals(f.path("group_id").asText())).toList();
      assertEquals(LongStream.rangeClosed(1, last).boxed().toList(), thread.stream().map(f -> f.path("seq").asLong()).toList(),
          member.address() + "'s copy of the thread, in order, once each");
      thread.stream().skip(1).forEach(f -> assertEquals(ackedSeqs.get(f.path("id").asText()), f.path("seq").asLong(),
          "the post under the seq its ack gave: " + f.path("id").asText()));
    }

    // A message acked before the kill, resent now, is known on the new primary: a duplicate.
    for (Sender sender : senders) {
      Acked early = sender.acked.get(0);
      try (TestClient client = new TestClient(sender.port)) {
        Frames.authenticate(client, sender.user.key(), sender.user.address());
        JsonNode again = assertAck(client.call(early.frame));
        assertTrue(again.path("duplicate").asBoolean(), "a resend after the failover is a duplicate: " + again);
        if (early.seq > 0) {
          assertEquals(early.seq, again.path("seq").asLong(), "answered with the seq first given");
        }
      }
    }

    // Live push across the servers again: both LISTEN on the new primary, and a message accepted on
    // one server reaches a connection synced on the other.
    awaitListeners(postgres.standbyUrl(database), 2, logs);
    TestUser carolOnOne = carol.reconnect(one.port());
    TestUser daveOnTwo = dave.reconnect(two.port());
    assertEquals("synced", last(carolOnOne.syncAll(0)).path("type").asText());
    assertEquals("synced", last(daveOnTwo.syncAll(0)).path("type").asText());
    TestUser bobAgain = bob.reconnect(two.port());
    TestUser aliceAgain = alice.reconnect(one.port());
    String toCarol = assertAck(bobAgain.send(text("after the failover", carol.address()))).path("re").asText();
    assertEquals(toCarol, carolOnOne.client().read().path("id").asText(), "pushed from server two to server one" + logs.get());
    String toDave = assertAck(aliceAgain.send(text("after the failover", dave.address()))).path("re").asText();
    assertEquals(toDave, daveOnTwo.client().read().path("id").asText(), "pushed from server one to server two" + logs.get());
    assertTrue(one.process().isAlive() && two.process().isAlive(), "both servers ran through the failover" + logs.get());
  }

  private static JsonNode last(List<JsonNode> frames) {
    return frames.get(frames.size() - 1);
  }

  /** Waits until each sender has acks up to {@code target}, failing after {@code seconds} or when one failed. */
  private static void awaitAcks(List<Sender> senders, ToIntFunction<Sender> target, int seconds,
      Supplier<String> logs) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!senders.stream().allMatch(s -> s.acked.size() >= target.applyAsInt(s))) {
      for (Sender sender : senders) {
        if (sender.failure != null) {
          throw new AssertionError(sender.user.address() + "'s load failed" + logs.get(), sender.failure);
        }
      }
      if (System.nanoTime() > deadline) {
        fail("the load did not get its acks within " + seconds + " s: " + senders.stream().map(s -> s.acked.size()).toList()
            + logs.get());
      }
      Thread.sleep(20);
    }
  }

  /** Waits until {@code count} servers' listening connections are on the database of {@code url}. */
  private static void awaitListeners(String url, int count, Supplier<String> logs) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    int found = 0;
    while (System.nanoTime() < deadline) {
      try (Connection connection = DriverManager.getConnection(url);
          Statement statement = connection.createStatement();
          ResultSet rows = statement.executeQuery(
              "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'esmp-storage-postgres-listen'")) {
        rows.next();
        found = rows.getInt(1);
      }
      if (found == count) {
        return;
      }
      Thread.sleep(100);
    }
    fail(found + " servers listen on the new primary, not " + count + logs.get());
  }

  /** A message acked: its frame, id, recipients, and seq (group posts; else 0). */
  private record Acked(String frame, String id, Set<String> to, long seq, long at) {}

  /**
   * A client sending messages one after another on one server: each frame, signed once, is sent
   * until it is acked, again on the same connection after an error answer and on a new one after a
   * broken connection. Records every ack.
   */
  private static final class Sender {
    final TestUser user;
    final int port;
    private final IntFunction<JsonObject> message;
    final List<Acked> acked = new CopyOnWriteArrayList<>();
    final AtomicInteger resends = new AtomicInteger();
    final AtomicInteger resentDuplicates = new AtomicInteger();
    /** Answers {@code internal}, and connections found broken, while it resent. */
    final AtomicInteger errorAnswers = new AtomicInteger();
    final AtomicInteger brokenConnections = new AtomicInteger();
    private final Thread thread;
    private volatile boolean finishing;
    volatile Throwable failure;
    private TestClient client;

    Sender(TestUser user, int port, IntFunction<JsonObject> message) {
      this.user = user;
      this.port = port;
      this.message = message;
      this.client = user.client();
      thread = new Thread(this::run, "load-" + user.address());
    }

    void start() {
      thread.start();
    }

    /** Stops after the message in flight is acked. */
    void finish() {
      finishing = true;
    }

    void join(Supplier<String> logs) throws InterruptedException {
      thread.join(TimeUnit.SECONDS.toMillis(120));
      if (thread.isAlive() || failure != null) {
        throw new AssertionError(user.address() + "'s load did not finish" + logs.get(), failure);
      }
    }

    long firstAckAfter(long nanos) {
      return acked.stream().mapToLong(Acked::at).filter(at -> at >= nanos).min().orElse(Long.MAX_VALUE);
    }

    private void run() {
      try {
        for (int i = 0; !finishing; i++) {
          JsonObject unsigned = message.apply(i);
          String frame = user.key().frame(unsigned);
          JsonNode answer = sendUntilAcked(frame);
          Set<String> to = new HashSet<>();
          JSON.readTree(frame).path("to").forEach(address -> to.add(address.asText()));
          acked.add(new Acked(frame, answer.path("re").asText(), to, answer.path("seq").asLong(0), System.nanoTime()));
        }
      } catch (Throwable e) {
        failure = e;
      }
    }

    /** Sends {@code frame} until it is acked, for up to two minutes; the ack. */
    private JsonNode sendUntilAcked(String frame) throws Exception {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      String lastProblem = "";
      for (int attempt = 0; System.nanoTime() < deadline; attempt++) {
        if (attempt > 0) {
          resends.incrementAndGet();
          Thread.sleep(100);
        }
        try {
          if (client == null) {
            client = connect();
          }
          JsonNode answer = client.call(frame);
          if (answer.path("type").asText().equals("ack")) {
            if (answer.path("duplicate").asBoolean()) {
              if (attempt == 0) {
                throw new AssertionError("a new message answered as a duplicate: " + answer);
              }
              resentDuplicates.incrementAndGet();
            }
            return answer;
          }
          // Nothing else than the database being away is expected here.
          assertEquals("internal", answer.path("code").asText(), answer.toString());
          lastProblem = answer.toString();
          errorAnswers.incrementAndGet();
        } catch (IOException broken) {
          brokenConnections.incrementAndGet();
          lastProblem = broken.toString();
          closeQuietly();
        }
      }
      throw new AssertionError("not acked within 120 s: " + lastProblem);
    }

    /** A new authenticated connection, or null while the server cannot authenticate (the database away). */
    private TestClient connect() throws IOException {
      TestClient fresh = new TestClient(port);
      JsonNode answer = fresh.call(user.key().frame(Frames.auth(fresh, user.address())));
      if (!answer.path("type").asText().equals("ack")) {
        fresh.close();
        throw new IOException("not authenticated: " + answer);
      }
      return fresh;
    }

    private void closeQuietly() {
      if (client != null) {
        try {
          client.close();
        } catch (IOException ignored) {
          // broken already
        }
        client = null;
      }
    }
  }
}
