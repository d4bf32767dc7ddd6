package org.esmp.client.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import org.esmp.client.FakeServer;
import org.esmp.client.Jcs;
import org.esmp.client.SigningKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code esmp listen}: auth, sync, print each delivery, save the cursor. */
@Timeout(30)
class ListenCommandTest {

  private static final SigningKey BOB = SigningKey.generate();

  @TempDir Path dir;

  @Test
  void printsEachDeliveryOnOneLineAndSavesTheCursor() throws Exception {
    try (Cli cli = Cli.against(new SmallServer(), dir)) {
      Cli.Result r = cli.esmp("listen", "--count", "2", "--timeout", "10");
      assertEquals(new Cli.Result(0, "bob#example.com: hello\n"
          + "[" + SmallServer.GROUP + " #4] bob#example.com: noon?\n", ""), r);
      assertEquals(2, cli.alice().cursor());
      assertEquals("auth", cli.server.received.poll().path("type").asText());
      assertEquals(0, cli.server.received.poll().path("body").path("since").asLong());
    }
  }

  @Test
  void printsEachDeliverFrameWithJson() throws Exception {
    SmallServer server = new SmallServer();
    try (Cli cli = Cli.against(server, dir)) {
      Cli.Result r = cli.esmp("listen", "--json", "--count", "2", "--timeout", "10");
      assertEquals(new Cli.Result(0, json(server.sent.get(0)) + "\n" + json(server.sent.get(1)) + "\n", ""), r);
    }
  }

  @Test
  void startsAfterTheSavedCursor() throws Exception {
    try (Cli cli = Cli.against(new SmallServer(), dir)) {
      cli.alice().saveCursor(7);
      cli.esmp("listen", "--count", "1", "--timeout", "10");
      cli.server.received.poll();
      assertEquals(7, cli.server.received.poll().path("body").path("since").asLong());
    }
  }

  @Test
  void endsQuietlyWhenItsTimeoutPassesWithoutACount() throws Exception {
    try (Cli cli = Cli.against(new SmallServer(), dir)) {
      Cli.Result r = cli.esmp("listen", "--timeout", "1");
      assertEquals(0, r.code());
      assertEquals("", r.err(), "its own close at the end is no error");
      assertTrue(r.out().startsWith("bob#example.com: hello\n"), r.out());
    }
  }

  @Test
  void failsWhenTheCountIsNotReachedInTime() throws Exception {
    try (Cli cli = Cli.against(new SmallServer(), dir)) {
      Cli.Result r = cli.esmp("listen", "--count", "3", "--timeout", "1");
      assertEquals(1, r.code());
      // One line: closing the client afterwards is listen's own doing, not a second error.
      assertEquals("esmp: timed out after 1 s with 2 of 3 messages\n", r.err());
      assertEquals(2, r.out().lines().count());
    }
  }

  @Test
  void refusesABadCountOrTimeout() {
    Cli.Result r = Cli.run("listen", "--count", "0");
    assertEquals(2, r.code());
    assertTrue(r.err().startsWith("--count and --timeout must be positive\n"), r.err());
    assertEquals(2, Cli.run("listen", "--timeout", "-1").code());
  }

  /** Syncs: deliveries of cursors 1 (good), 2 (body altered after signing), 3 (good). */
  private static void forgedSecondDelivery(FakeServer.Conn conn, ObjectNode frame) throws IOException {
    if (!frame.path("type").asText().equals("sync")) {
      conn.ack(frame);
      return;
    }
    ObjectNode forged = FakeServer.text(BOB, "alice#example.com", "pay 10 euros", 2);
    String id = FakeServer.idOf(forged);
    ((ObjectNode) forged.get("body")).put("text", "pay 1000 euros");
    ObjectNode forgedDelivery = FakeServer.deliver(2, "bob#example.com", forged);
    forgedDelivery.put("id", id); // the id of what Bob signed, as a forging server would keep it
    conn.send(FakeServer.deliver(1, "bob#example.com",
        FakeServer.text(BOB, "alice#example.com", "hello", 1)));
    conn.send(forgedDelivery);
    conn.send(FakeServer.deliver(3, "bob#example.com",
        FakeServer.text(BOB, "alice#example.com", "bye", 3)));
    ObjectNode synced = FakeServer.JSON.createObjectNode();
    synced.put("type", "synced").put("re", FakeServer.idOf(frame)).put("cursor", 3);
    conn.send(synced);
  }

  @Test
  void printsTheGoodDeliveryThenFailsLoudlyOnTheForgedOne() throws Exception {
    try (Cli cli = Cli.against(ListenCommandTest::forgedSecondDelivery, dir)) {
      Cli.Result r = cli.esmp("listen", "--count", "3", "--timeout", "10");
      assertEquals(1, r.code());
      assertEquals("bob#example.com: hello\n", r.out());
      assertTrue(r.err().startsWith("esmp: refused delivery 2 from bob#example.com"), r.err());
      assertTrue(r.err().contains("signature does not verify"), r.err());
      assertEquals(1, r.err().lines().count(), r.err());
      assertFalse(r.out().contains("1000"));
      // Past the refused entry: the server would send the same bytes again.
      assertEquals(2, cli.alice().cursor());
    }
  }

  static String json(ObjectNode frame) {
    return new String(Jcs.compact(frame), UTF_8);
  }
}
