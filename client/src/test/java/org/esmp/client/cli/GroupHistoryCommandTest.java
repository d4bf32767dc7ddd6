package org.esmp.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.esmp.client.FakeServer;
import org.esmp.client.SigningKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code esmp group history}: auth, then the thread, oldest first. */
@Timeout(30)
class GroupHistoryCommandTest {

  @TempDir Path dir;

  @Test
  void printsEachEntryOnOneLineOldestFirst() throws Exception {
    try (Cli cli = Cli.against(new SmallServer(), dir)) {
      assertEquals(new Cli.Result(0, """
          #1 bob#example.com created the group "lunch" with carol#example.com
          #2 carol#example.com joined
          #3 bob#example.com added dave#example.com
          #4 bob#example.com: noon?
          #5 dave#example.com left
          #6 bob#example.com removed carol#example.com
          #7 bob#example.com: reaction {"emoji":"👍","to_seq":4}
          """, ""), cli.esmp("group", "history", SmallServer.GROUP));
      assertEquals("auth", cli.server.received.poll(5, TimeUnit.SECONDS).path("type").asText());
      ObjectNode history = cli.server.received.poll(5, TimeUnit.SECONDS);
      assertEquals("{\"type\":\"history\",\"to\":[],\"group_id\":\"" + SmallServer.GROUP
          + "\",\"body\":{}}", SendCommandTest.withoutSignatureAndTs(history));
    }
  }

  @Test
  void printsEachEntryAsJsonWithJson() throws Exception {
    SmallServer server = new SmallServer();
    try (Cli cli = Cli.against(server, dir)) {
      Cli.Result r = cli.esmp("group", "history", "--json", SmallServer.GROUP);
      StringBuilder expected = new StringBuilder();
      for (int i = server.sent.size() - 1; i >= 0; i--) {
        expected.append(ListenCommandTest.json(server.sent.get(i))).append('\n');
      }
      assertEquals(new Cli.Result(0, expected.toString(), ""), r);
    }
  }

  @Test
  void asksForTheLimit() throws Exception {
    try (Cli cli = Cli.against(new SmallServer(), dir)) {
      assertEquals(0, cli.esmp("group", "history", "--limit", "2", SmallServer.GROUP).code());
      cli.server.received.poll(5, TimeUnit.SECONDS);
      assertEquals("{\"limit\":2}", cli.server.received.poll(5, TimeUnit.SECONDS).path("body").toString());
    }
  }

  /** A thread whose one entry was altered after it was signed. */
  private static void forgedEntry(FakeServer.Conn conn, ObjectNode frame) throws IOException {
    if (!frame.path("type").asText().equals("history")) {
      conn.ack(frame);
      return;
    }
    ObjectNode message = FakeServer.text(SigningKey.generate(), "alice#example.com", "pay 10", 1);
    ObjectNode entry = FakeServer.deliver(1, "bob#example.com", message);
    entry.remove("type");
    entry.remove("cursor");
    ((ObjectNode) message.get("body")).put("text", "pay 1000");
    ObjectNode answer = FakeServer.JSON.createObjectNode();
    answer.put("type", "history").put("re", FakeServer.idOf(frame)).put("group_id", "g");
    ArrayNode entries = answer.putArray("entries");
    entries.add(entry);
    answer.put("more", false);
    conn.send(answer);
  }

  @Test
  void refusesAThreadWithAnEntryThatDoesNotVerify() throws Exception {
    try (Cli cli = Cli.against(GroupHistoryCommandTest::forgedEntry, dir)) {
      Cli.Result r = cli.esmp("group", "history", "g");
      assertEquals(1, r.code());
      assertEquals("", r.out());
      assertTrue(r.err().startsWith("esmp: refused message from bob#example.com (id "), r.err());
      assertTrue(r.err().endsWith(": signature does not verify\n"), r.err());
    }
  }
}
