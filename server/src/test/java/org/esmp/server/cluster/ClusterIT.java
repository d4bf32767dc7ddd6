package org.esmp.server.cluster;

import static org.esmp.server.testing.Frames.assertAck;
import static org.esmp.server.testing.Frames.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.esmp.plugin.storage.postgres.TestPostgres;
import org.esmp.server.testing.ChildServer;
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
  static ChildServer one;
  static ChildServer two;

  @BeforeAll
  static void startCluster() throws Exception {
    postgres = TestPostgres.start();
    String url = postgres.url(postgres.createDatabase());
    String settings = "storage: postgres\njdbc_url: \"" + url + "\"\n";
    one = ChildServer.builder(dir.resolve("one"), dir.resolve("one.log")).settings(settings).start();
    two = ChildServer.builder(dir.resolve("two"), dir.resolve("two.log")).settings(settings).start();
    one.port();
    two.port();
  }

  @AfterAll
  static void stopCluster() throws Exception {
    for (AutoCloseable closeable : new AutoCloseable[] {one, two, postgres}) {
      if (closeable != null) {
        closeable.close();
      }
    }
  }

  private static String logs() {
    return one.log() + two.log();
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
    List<JsonNode> synced = frank.syncAll(0);
    assertEquals("synced", synced.get(synced.size() - 1).path("type").asText());
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
}
