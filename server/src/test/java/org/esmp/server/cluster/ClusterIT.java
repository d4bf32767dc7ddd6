package org.esmp.server.cluster;

import static org.esmp.server.testing.Frames.assertAck;
import static org.esmp.server.testing.Frames.groupMessage;
import static org.esmp.server.testing.Frames.groupText;
import static org.esmp.server.testing.Frames.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;
import org.esmp.plugin.storage.postgres.TestPostgres;
import org.esmp.server.testing.AdminRun;
import org.esmp.server.testing.Await;
import org.esmp.server.testing.ChildServer;
import org.esmp.server.testing.Frames;
import org.esmp.server.testing.TestClient;
import org.esmp.server.testing.TestUser;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two ESMP servers for one domain, separate processes sharing one real PostgreSQL through the
 * storage-postgres plugin (issue 16's cluster mode): what one accepts the other sees, a message
 * sent to both at once is stored once, and a message accepted on one reaches a connection synced
 * on the other, live.
 */
class ClusterIT {

  @TempDir static Path dir;
  static TestPostgres postgres;
  static String url;
  static ChildServer one;
  static ChildServer two;
  static ChildServer three;

  @BeforeAll
  static void startCluster() throws Exception {
    postgres = TestPostgres.start();
    url = postgres.url(postgres.createDatabase());
    one = node("one").start();
    one.port();
    // Every server of a cluster signs with the same key: the first one's, copied before the others start.
    two = node("two", dir.resolve("one")).start();
    three = node("three", dir.resolve("one")).start();
    two.port();
    three.port();
  }

  private static String settings() {
    return "storage: postgres\njdbc_url: \"" + url + "\"\n";
  }

  /** A node on the data directory {@code name}, with the server key of {@code keyFrom} if given. */
  private static ChildServer.Builder node(String name, Path... keyFrom) throws IOException {
    Path data = dir.resolve(name);
    if (keyFrom.length > 0) {
      ChildServer.shareServerKey(keyFrom[0], data);
    }
    return ChildServer.builder(data, dir.resolve(name + ".log")).settings(settings());
  }

  @AfterAll
  static void stopCluster() throws Exception {
    for (AutoCloseable closeable : new AutoCloseable[] {one, two, three, postgres}) {
      if (closeable != null) {
        closeable.close();
      }
    }
  }

  /** Syncs {@code user} from 0: what is accepted for it from then on is pushed to its connection. */
  private static void follow(TestUser user) throws Exception {
    List<JsonNode> synced = user.syncAll(0);
    assertEquals("synced", synced.get(synced.size() - 1).path("type").asText());
  }

  private static String logs() {
    return one.log() + two.log() + three.log();
  }

  @Test
  void anAddressRegisteredOnOneNodeSendsThroughTheOther() throws Exception {
    TestUser alice = TestUser.register(one.port(), "alice");
    TestUser bob = TestUser.register(two.port(), "bob");
    TestUser aliceOnTwo = alice.reconnect(two.port());
    String id = assertAck(aliceOnTwo.send(text("through node two", bob.address()))).path("re").asText();
    TestUser bobOnOne = bob.reconnect(one.port());
    List<JsonNode> mailbox = bobOnOne.syncAll(0);
    assertEquals(id, mailbox.get(0).path("id").asText(), logs());
  }

  @Test
  void theSameMessageSentToBothNodesAtOnceIsStoredOnceAndOneAnswerIsADuplicate() throws Exception {
    TestUser carol = TestUser.register(one.port(), "carol");
    TestUser dave = TestUser.register(two.port(), "dave");
    for (int round = 0; round < 20; round++) {
      String frame = carol.key().frame(text("both at once " + round, dave.address()));
      try (TestClient a = new TestClient(one.port()); TestClient b = new TestClient(two.port())) {
        a.send(frame);
        b.send(frame);
        JsonNode first = assertAck(a.read());
        JsonNode second = assertAck(b.read());
        assertEquals(first.path("re"), second.path("re"));
        assertEquals(1, (first.path("duplicate").asBoolean() ? 1 : 0) + (second.path("duplicate").asBoolean() ? 1 : 0),
            "exactly one of " + first + " and " + second + " is a duplicate");
      }
    }
    List<JsonNode> mailbox = dave.syncAll(0);
    List<String> ids = new ArrayList<>();
    mailbox.stream().filter(f -> f.path("type").asText().equals("deliver")).forEach(f -> ids.add(f.path("id").asText()));
    assertEquals(20, ids.size(), "each message stored once: " + ids);
    assertEquals(20, ids.stream().distinct().count());
  }

  @Test
  void aMessageAcceptedOnOneNodeReachesAConnectionSyncedOnTheOtherLive() throws Exception {
    TestUser erin = TestUser.register(one.port(), "erin");
    TestUser frank = TestUser.register(two.port(), "frank");
    follow(frank);
    List<Long> latencies = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      long sent = System.nanoTime();
      String id = assertAck(erin.send(text("live " + i, frank.address()))).path("re").asText();
      JsonNode pushed = frank.client().read();
      latencies.add((System.nanoTime() - sent) / 1_000_000);
      assertEquals("deliver", pushed.path("type").asText(), pushed + logs());
      assertEquals(id, pushed.path("id").asText());
    }
    latencies.sort(null);
    System.out.printf("ClusterIT: send on node one to deliver on node two, ms: median %d, max %d%n",
        latencies.get(latencies.size() / 2), latencies.get(latencies.size() - 1));
    assertTrue(latencies.get(latencies.size() - 1) < 5_000, latencies.toString());
  }

  /**
   * An ephemeral message (the echo test plugin's {@code typing}) accepted on one server reaches a
   * connection synced on another, live, with {@code "cursor":null}, and is stored nowhere: a sync
   * from 0 on either server shows only the stored message sent after it.
   */
  @Test
  void anEphemeralMessageSentOnOneNodeReachesAConnectionSyncedOnTheOtherAndIsNotStored() throws Exception {
    TestUser lena = TestUser.register(one.port(), "lena");
    TestUser mike = TestUser.register(two.port(), "mike");
    follow(mike);

    JsonObject typing = JsonObject.builder().put("type", "typing").put("to", JsonArray.ofStrings(List.of(mike.address())))
        .put("body", JsonObject.builder().put("state", "composing").build()).put("ts", System.currentTimeMillis()).build();
    long sent = System.nanoTime();
    String typingId = assertAck(lena.send(typing)).path("re").asText();
    JsonNode pushed = mike.client().read();
    long millis = (System.nanoTime() - sent) / 1_000_000;
    assertEquals("deliver", pushed.path("type").asText(), pushed + logs());
    assertEquals(typingId, pushed.path("id").asText());
    assertTrue(pushed.has("cursor") && pushed.path("cursor").isNull(), "not stored: " + pushed);
    assertEquals(lena.address(), pushed.path("from").asText());
    assertEquals("composing", pushed.path("message").path("body").path("state").asText());
    System.out.printf("ClusterIT: ephemeral message, send on node one to deliver on node two: %d ms%n", millis);

    String textId = assertAck(lena.send(text("after typing", mike.address()))).path("re").asText();
    assertEquals(textId, mike.client().read().path("id").asText(), "the stored one next, nothing else between");
    for (ChildServer node : List.of(one, two)) {
      TestUser again = mike.reconnect(node.port());
      List<String> mailbox = again.syncAll(0).stream()
          .filter(f -> f.path("type").asText().equals("deliver")).map(f -> f.path("id").asText()).toList();
      again.client().close();
      assertEquals(List.of(textId), mailbox, "only the stored message in the mailbox");
    }
  }

  @Test
  void threeMembersOnThreeNodesPostAtOnceAndEveryoneSeesOneGaplessThread() throws Exception {
    TestUser grace = TestUser.register(one.port(), "grace");
    TestUser heidi = TestUser.register(two.port(), "heidi");
    TestUser ivan = TestUser.register(three.port(), "ivan");
    String group = UUID.randomUUID().toString();
    JsonNode created = grace.send(groupMessage("group_created", group, JsonObject.builder()
        .put("members", JsonArray.ofStrings(List.of(heidi.address(), ivan.address()))).build()));
    assertEquals(1, assertAck(created).path("seq").asLong(), created.toString());

    List<TestUser> members = List.of(grace, heidi, ivan);
    List<CompletableFuture<List<JsonNode>>> posting = new ArrayList<>();
    for (TestUser member : members) {
      List<String> frames = new ArrayList<>();
      for (int i = 0; i < POSTS; i++) {
        frames.add(member.key().frame(groupText(group, member.address() + " " + i)));
      }
      posting.add(CompletableFuture.supplyAsync(() -> {
        try {
          return member.sendPipelined(frames);
        } catch (Exception e) {
          throw new CompletionException(e);
        }
      }));
    }
    Set<Long> seqs = new TreeSet<>();
    for (CompletableFuture<List<JsonNode>> answers : posting) {
      for (JsonNode answer : answers.get(120, TimeUnit.SECONDS)) {
        assertTrue(seqs.add(assertAck(answer).path("seq").asLong()), "a seq given twice: " + answer);
      }
    }
    long last = 1 + 3L * POSTS;
    assertEquals(LongStream.rangeClosed(2, last).boxed().toList(), List.copyOf(seqs), "gapless, each post once");

    for (TestUser member : members) {
      List<JsonNode> entries = member.syncAll(0).stream().filter(f -> group.equals(f.path("group_id").asText())).toList();
      assertEquals(entries.size(), entries.stream().map(f -> f.path("id").asText()).distinct().count(),
          "each post in " + member.address() + "'s mailbox once");
      List<Long> thread = entries.stream().map(f -> f.path("seq").asLong()).toList();
      assertEquals(LongStream.rangeClosed(1, last).boxed().toList(), thread, member.address() + "'s mailbox, in order");
    }
  }

  private static final int POSTS = 100;

  /**
   * A server of the cluster killed (SIGKILL) while a client sends through it and another follows its
   * mailbox on it: both go to another server; the follower syncs from the cursor it had, and every
   * message that was acked is there, once.
   */
  @Test
  void aNodeKilledUnderLoadLosesNothingAckedAndItsClientsGoOnElsewhere() throws Exception {
    try (ChildServer doomed = node("four", dir.resolve("one")).start()) {
      TestUser judy = TestUser.register(doomed.port(), "judy");
      TestUser ken = TestUser.register(doomed.port(), "ken");
      follow(ken);

      List<String> acked = new CopyOnWriteArrayList<>();
      Thread sender = new Thread(() -> {
        try {
          for (int i = 0; i < 5_000; i++) {
            JsonNode answer = judy.send(text("under load " + i, ken.address()));
            if (answer.path("type").asText().equals("ack")) {
              acked.add(answer.path("re").asText());
            }
          }
        } catch (Exception closed) {
          // the server was killed: what was acked is in acked
        }
      });
      sender.start();
      List<String> received = new ArrayList<>();
      long cursor = 0;
      while (received.size() < 300) {
        JsonNode pushed = ken.client().read();
        received.add(pushed.path("id").asText());
        cursor = pushed.path("cursor").asLong();
      }
      assertTrue(doomed.kill(), "killed");
      sender.join(30_000);
      try {
        while (true) {
          JsonNode pushed = ken.client().read(); // what was written before the kill
          received.add(pushed.path("id").asText());
          cursor = pushed.path("cursor").asLong();
        }
      } catch (java.io.IOException closed) {
        // the connection died with the server
      }

      TestUser kenElsewhere = ken.reconnect(two.port());
      List<JsonNode> rest = kenElsewhere.syncAll(cursor);
      rest.subList(0, rest.size() - 1).forEach(f -> received.add(f.path("id").asText()));
      assertEquals(received.size(), Set.copyOf(received).size(), "nothing twice");
      assertTrue(received.containsAll(acked), (acked.size() - acked.stream().filter(received::contains).count())
          + " acked messages lost of " + acked.size());
      System.out.printf("ClusterIT: node killed after %d acks; %d delivered in all%n", acked.size(), received.size());
      TestUser judyElsewhere = judy.reconnect(two.port());
      String after = assertAck(judyElsewhere.send(text("after the kill", ken.address()))).path("re").asText();
      assertEquals(after, kenElsewhere.client().read().path("id").asText(), "and goes on live on the other server");
    }
  }

  @Test
  void aServerWithAnotherServerKeyThanTheClustersRefusesToStartSayingWhatToCopy() throws Exception {
    ChildServer stranger = node("stranger").start();
    try {
      assertTrue(stranger.process().waitFor(60, TimeUnit.SECONDS), "still running:\n" + stranger.log());
      assertNotEquals(0, stranger.process().exitValue());
      String log = stranger.log();
      assertTrue(log.contains("every server of a cluster signs with the same key")
          && log.contains("Copy server.key from the data directory of one of them to " + dir.resolve("stranger/server.key")), log);
    } finally {
      stranger.close();
    }
    // Copied, it starts.
    Files.delete(dir.resolve("stranger/server.key"));
    try (ChildServer copied = node("stranger", dir.resolve("one")).start()) {
      copied.port();
    }
  }

  @Test
  void anAddressDisabledThroughOneNodeIsRefusedOnTheOthersAndEnabledAgainThroughAnother() throws Exception {
    TestUser judy = TestUser.register(one.port(), "judy");
    TestUser ken = TestUser.register(two.port(), "ken");
    TestUser judyOnTwo = judy.reconnect(two.port());
    assertAck(judyOnTwo.send(text("before", ken.address())));

    AdminRun disabled = AdminRun.on(dir.resolve("one"), "users", "disable", judy.address());
    assertEquals(0, disabled.code(), disabled.toString());
    // Node two refuses her (forbidden), then closes her connection, as node one did at once.
    Await.until("node two closes judy's connection", Duration.ofSeconds(20), () -> {
      try {
        JsonNode answer = judyOnTwo.send(text("while disabled", ken.address()));
        assertTrue(answer.path("type").asText().equals("ack") || answer.path("code").asText().equals("forbidden"),
            answer.toString());
        return false;
      } catch (IOException closed) {
        return true;
      }
    }, ClusterIT::logs);
    assertEquals("forbidden", authenticateOnce(two.port(), judy).path("code").asText());

    AdminRun enabled = AdminRun.on(dir.resolve("three"), "users", "enable", judy.address());
    assertEquals(0, enabled.code(), enabled.toString());
    Await.until("node two lets judy auth again", Duration.ofSeconds(20), () -> authenticateOnce(two.port(), judy),
        answer -> "ack".equals(answer.path("type").asText()), ClusterIT::logs);

    // Through one server and at once through another, before that one read the states again: the
    // operator's command acts on the state stored, not on what the server last read.
    assertEquals(0, AdminRun.on(dir.resolve("one"), "users", "disable", judy.address()).code());
    AdminRun again = AdminRun.on(dir.resolve("two"), "users", "enable", judy.address());
    assertEquals(0, again.code(), again.toString());
    assertTrue(again.out().contains("enabled " + judy.address()), again.toString());
    assertEquals("ack", authenticateOnce(two.port(), judy).path("type").asText());
  }

  /** {@code user}'s auth on a connection of its own to {@code port}, closed after: the answer, or an error "closed". */
  private static JsonNode authenticateOnce(int port, TestUser user) throws Exception {
    try (TestClient client = new TestClient(port)) {
      return client.call(user.key().frame(Frames.auth(client, user.address())));
    } catch (IOException closed) {
      return new com.fasterxml.jackson.databind.ObjectMapper().readTree("{\"type\":\"error\",\"code\":\"closed\"}");
    }
  }
}
