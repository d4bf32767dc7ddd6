package org.esmp.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.esmp.client.FakeServer;
import org.esmp.client.Messages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code esmp send}: one signed {@code text}, and who got it. */
@Timeout(30)
class SendCommandTest {

  @TempDir Path dir;

  @Test
  void sendsOneSignedTextAndSaysToWhom() throws Exception {
    try (Cli cli = Cli.against(new SmallServer(), dir)) {
      Cli.Result r = cli.esmp("send", "--to", "bob#example.com", "--cc", "carol#example.com",
          "--to", "bob#example.com", "Lunch", "at noon?");
      assertEquals(new Cli.Result(0, "sent to bob#example.com, carol#example.com\n", ""), r);
      ObjectNode text = cli.server.received.poll(5, TimeUnit.SECONDS);
      assertEquals("{\"type\":\"text\",\"to\":[\"bob#example.com\",\"bob#example.com\"],"
          + "\"cc\":[\"carol#example.com\"],\"body\":{\"text\":\"Lunch at noon?\"}}",
          withoutSignatureAndTs(text));
      assertEquals(FakeServer.idOf(text), Messages.verify(text));
      assertNull(cli.server.received.poll(100, TimeUnit.MILLISECONDS), "no auth: a send needs none");
    }
  }

  @Test
  void saysOnStderrWhoDidNotGetIt() throws Exception {
    try (Cli cli = Cli.against(new SmallServer(), dir)) {
      Cli.Result r = cli.esmp("send", "--to", "nobody#example.com", "--to", "bob#example.com", "hi");
      assertEquals(new Cli.Result(0, "sent to bob#example.com\n",
          "esmp: not delivered to nobody#example.com: unknown_recipient\n"), r);
    }
  }

  @Test
  void saysWhoDidNotGetItInTheServersOrder() throws Exception {
    try (Cli cli = Cli.against(new SmallServer(), dir)) {
      Cli.Result r = cli.esmp("send", "--to", "zed#example.com", "--to", "bob#example.com",
          "--cc", "amy#example.com", "--to", "max#example.com", "hi");
      assertEquals(new Cli.Result(0, "sent to bob#example.com\n",
          "esmp: not delivered to zed#example.com: unknown_recipient\n"
              + "esmp: not delivered to max#example.com: unknown_recipient\n"
              + "esmp: not delivered to amy#example.com: unknown_recipient\n"), r);
    }
  }

  @Test
  void printsTheAckWithJson() throws Exception {
    try (Cli cli = Cli.against(new SmallServer(), dir)) {
      Cli.Result r = cli.esmp("send", "--json", "--to", "nobody#example.com", "hi");
      String id = FakeServer.idOf(cli.server.received.poll(5, TimeUnit.SECONDS));
      assertEquals(new Cli.Result(0, "{\"type\":\"ack\",\"re\":\"" + id + "\",\"duplicate\":false,"
          + "\"rejected\":{\"nobody#example.com\":\"unknown_recipient\"}}\n", ""), r);
    }
  }

  @Test
  void sendsAnyContentTypeWithItsBody() throws Exception {
    try (Cli cli = Cli.against(new SmallServer(), dir)) {
      Cli.Result r = cli.esmp("send", "--to", "bob#example.com", "--type", "reaction",
          "--body", "{\"emoji\":\"👍\",\"target\":\"" + "ab".repeat(32) + "\"}");
      assertEquals(new Cli.Result(0, "sent to bob#example.com\n", ""), r);
      ObjectNode reaction = cli.server.received.poll(5, TimeUnit.SECONDS);
      assertEquals("{\"type\":\"reaction\",\"to\":[\"bob#example.com\"],\"body\":{\"emoji\":\"👍\",\"target\":\""
          + "ab".repeat(32) + "\"}}", withoutSignatureAndTs(reaction));
      assertEquals(FakeServer.idOf(reaction), Messages.verify(reaction));
    }
  }

  @Test
  void takesTextOrABodyAndABodyIsOneJsonObject() {
    String[][] refused = {
        {"send", "--to", "bob#example.com"},
        {"send", "--to", "bob#example.com", "--body", "{}", "and text"},
        {"send", "--to", "bob#example.com", "--type", "reaction", "no body"},
        {"send", "--to", "bob#example.com", "--type", "reaction", "--body", "[1]"},
        {"send", "--to", "bob#example.com", "--type", "reaction", "--body", "{oops"}};
    String[] says = {"send needs TEXT, or --body JSON", "send takes TEXT or --body, not both",
        "--type reaction needs --body JSON", "--body must be one JSON object", "--body must be one JSON object"};
    for (int i = 0; i < refused.length; i++) {
      Cli.Result r = Cli.run(refused[i]);
      assertEquals(2, r.code(), String.join(" ", refused[i]));
      assertTrue(r.err().startsWith(says[i]), r.err());
    }
  }

  @Test
  void anUnknownSenderIsToldToRegister() throws Exception {
    FakeServer.Script unknownKey = (conn, frame) -> {
      ObjectNode error = FakeServer.JSON.createObjectNode();
      error.put("type", "error").put("re", FakeServer.idOf(frame)).put("code", "unknown_sender")
          .put("message", "no address has this key");
      conn.send(error);
    };
    try (Cli cli = Cli.against(unknownKey, dir)) {
      Cli.Result r = cli.esmp("send", "--to", "bob#example.com", "hi");
      assertEquals(new Cli.Result(1, "", "esmp: server error unknown_sender: no address has this key"
          + " (is the identity's address registered with this key? esmp register)\n"), r);
    }
  }

  @Test
  void needsARecipientAndGoodAddresses() {
    Cli.Result none = Cli.run("send", "hi");
    assertEquals(2, none.code());
    assertTrue(none.err().startsWith("send needs --to or --cc\n"), none.err());
    Cli.Result bad = Cli.run("send", "--to", "Bob", "hi");
    assertEquals(2, bad.code());
    assertTrue(bad.err().startsWith("not an ESMP address (local#domain, lowercase): Bob\n"), bad.err());
  }

  static String withoutSignatureAndTs(ObjectNode message) {
    ObjectNode copy = message.deepCopy();
    copy.remove(java.util.List.of("signature", "sender_pubkey", "ts"));
    return copy.toString();
  }
}
