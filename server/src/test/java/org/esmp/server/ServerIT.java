package org.esmp.server;

import static org.esmp.server.testing.Frames.assertError;
import static org.esmp.server.testing.Frames.auth;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;
import org.esmp.server.testing.TestClient;
import org.esmp.server.testing.TestIdentity;
import org.esmp.server.testing.SharedServerTest;
import org.junit.jupiter.api.Test;

/**
 * The real server on an ephemeral port, with the echo test plugin and the bundled plugins loaded by
 * PF4J from a plugins directory (none is on this test's classpath), spoken to over TCP.
 */
class ServerIT extends SharedServerTest {

  private static final String VALID_FRAME =
      "{\"type\":\"text\",\"to\":[\"bob#example.com\"],\"body\":{\"text\":\"hello\"},\"ts\":1764000000003,"
          + "\"signature\":\"NVQoAgEXf4cWt00OeKGfbHGwf6Pj5shmaOe8PMPJQPOSl1+GyOjrdcLmQvbZau8AacZpn1dULsBdFYb7oWFcDA==\","
          + "\"sender_pubkey\":\"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"}";
  private static final String VALID_ID = "7393016c42e2cb04a5729df37d3c9a690437f9dff6bb74341c95d2497ec06751";


  private static TestClient connect() throws Exception {
    return new TestClient(server.port());
  }

  /** Registers a fresh identity as {@code local#example.com} on {@code client}. */
  private static TestIdentity register(TestClient client, String local) throws Exception {
    TestIdentity me = TestIdentity.random();
    JsonNode answer = client.call(me.frame(auth(client, local + "#example.com")));
    assertEquals("ack", answer.path("type").asText(), answer.toString());
    assertTrue(answer.path("registered").asBoolean());
    return me;
  }

  private static JsonObject echo(String text) {
    return JsonObject.builder().put("type", "echo").put("to", JsonArray.of())
        .put("body", JsonObject.builder().put("text", text).build())
        .put("ts", System.currentTimeMillis()).build();
  }

  @Test
  void greetsWithHelloAndAFreshChallenge() throws Exception {
    try (TestClient a = connect(); TestClient b = connect()) {
      JsonNode hello = a.hello();
      assertEquals("hello", hello.path("type").asText());
      assertEquals("esmp/1", hello.path("protocol").asText());
      assertEquals("example.com", hello.path("domain").asText());
      assertEquals("example.com", hello.path("domains").path(0).asText());
      assertEquals(65536, hello.path("max_frame").asInt());
      assertEquals(server.serverKey(), hello.path("server_key").asText(), "the server's key (section 8)");
      assertEquals(hello.path("server_key"), b.hello().path("server_key"));
      assertEquals(32, Base64.getDecoder().decode(hello.path("challenge").asText()).length);
      assertFalse(hello.path("challenge").asText().equals(b.hello().path("challenge").asText()));
    }
  }

  @Test
  void dispatchesADeclaredTypeToItsPlugin() throws Exception {
    try (TestClient client = connect()) {
      TestIdentity alice = register(client, "alice");
      JsonNode answer = client.call(alice.frame(echo("ping")));
      assertEquals("echo", answer.path("type").asText(), answer.toString());
      assertEquals("alice#example.com", answer.path("from").asText());
      assertEquals("ping", answer.path("body").path("text").asText());
      assertEquals(64, answer.path("re").asText().length());
    }
  }

  @Test
  void refusesAnUndeclaredTypeAsUnsupported() throws Exception {
    try (TestClient client = connect()) {
      TestIdentity alice = register(client, "alice2");
      JsonObject unknown = JsonObject.builder().put("type", "no.such-type").put("to", JsonArray.of())
          .put("body", JsonObject.empty()).put("ts", System.currentTimeMillis()).build();
      JsonNode answer = client.call(alice.frame(unknown));
      assertError(answer, "unsupported_type");
      // Per section 3 the type is checked before the sender: an unregistered key gets the same.
      assertError(client.call(TestIdentity.random().frame(unknown)), "unsupported_type");
    }
  }

  @Test
  void refusesAuthForAnAddressWhoseLocalPartBreaksTheRule() throws Exception {
    try (TestClient client = connect()) {
      TestIdentity eve = TestIdentity.random();
      for (String address : List.of(".#example.com", "..#example.com", "a..b#example.com", "-a#example.com",
          "a-#example.com", "a".repeat(65) + "#example.com")) {
        JsonNode answer = client.call(eve.frame(auth(client, address)));
        assertError(answer, "bad_field");
        assertEquals("auth address is not an address (local#domain, lowercase)", answer.path("message").asText(), address);
      }
      // The key is still free: nothing was registered to it.
      assertTrue(client.call(eve.frame(auth(client, "a" + ".b".repeat(31) + "1#example.com")))
          .path("registered").asBoolean());
    }
  }

  @Test
  void refusesAMessageFromAnUnregisteredKey() throws Exception {
    try (TestClient client = connect()) {
      assertError(client.call(TestIdentity.random().frame(echo("x"))), "unknown_sender");
    }
  }

  @Test
  void answersEveryBadFrameWithItsCodeAndKeepsTheConnection() throws Exception {
    try (TestClient client = connect()) {
      TestIdentity alice = register(client, "carol");
      String tampered = VALID_FRAME.replace("\"hello\"", "\"hellO\"");
      JsonNode answer = client.call(tampered);
      assertError(answer, "bad_signature");
      assertEquals(64, answer.path("re").asText().length(), "a tampered frame still has an id");

      String unsigned = VALID_FRAME.replaceAll(",\"signature\":\"[^\"]*\"", "");
      answer = client.call(unsigned);
      assertError(answer, "missing_field");
      assertEquals(VALID_ID, answer.path("re").asText(), "the id needs only sender_pubkey");

      answer = client.call("{\"type\":\"text\",");
      assertError(answer, "bad_json");
      assertTrue(answer.path("re").isNull());

      assertError(client.call(VALID_FRAME.replace("{\"type\":\"text\",", "{\"type\":\"text\",\"type\":\"text\",")),
          "bad_json");
      assertError(client.call("[\"type\",\"text\"]"), "bad_json");
      assertError(client.call(VALID_FRAME.replace("bob#example.com", "Bob#example.com")), "bad_field");
      assertError(client.call(alice.frame(echo("late").toBuilder().put("ts", 1_000_000L).build())), "stale");

      // Still the same connection, still served.
      assertEquals("echo", client.call(alice.frame(echo("still here"))).path("type").asText());
    }
  }

  @Test
  void ignoresEmptyLinesAndAcceptsCrLf() throws Exception {
    try (TestClient client = connect()) {
      TestIdentity dave = register(client, "dave");
      client.sendRaw(("\n\r\n" + dave.frame(echo("crlf")) + "\r\n").getBytes(StandardCharsets.UTF_8));
      JsonNode answer = client.read();
      assertEquals("echo", answer.path("type").asText(), answer.toString());
    }
  }

  @Test
  void closesTheConnectionAfterAnOversizedFrame() throws Exception {
    try (TestClient client = connect()) {
      byte[] big = new byte[70_000];
      java.util.Arrays.fill(big, (byte) 'a');
      client.sendRaw(big);
      JsonNode answer = client.read();
      assertError(answer, "frame_too_large");
      assertTrue(answer.path("re").isNull());
      assertTrue(client.closedByServer());
    }
  }

  @Test
  void acceptsAFrameOfExactlyTheMaximumLength() throws Exception {
    try (TestClient client = connect()) {
      TestIdentity erin = register(client, "erin");
      String frame = erin.frame(echo(""));
      int padding = 65536 - frame.length() - ",\"x_pad\":\"\"".length();
      String padded = erin.frame(echo("").toBuilder().put("x_pad", "p".repeat(padding)).build());
      assertEquals(65536, padded.getBytes(StandardCharsets.UTF_8).length);
      // Split the line ending across two writes: "\r" now, "\n" later.
      client.sendRaw((padded + "\r").getBytes(StandardCharsets.UTF_8));
      Thread.sleep(50);
      client.sendRaw("\n".getBytes(StandardCharsets.UTF_8));
      assertEquals("echo", client.read().path("type").asText());
    }
  }

  @Test
  void answersPipelinedMessagesInArrivalOrder() throws Exception {
    try (TestClient client = connect()) {
      TestIdentity frank = register(client, "frank");
      List<String> expected = new ArrayList<>();
      StringBuilder burst = new StringBuilder();
      for (int i = 0; i < 300; i++) {
        String frame = switch (i % 3) {
          case 0 -> frank.frame(echo("n" + i));
          case 1 -> "{\"broken\":" + i;
          default -> TestIdentity.random().frame(echo("unknown" + i));
        };
        burst.append(frame).append('\n');
        expected.add(i % 3 == 0 ? "echo:n" + i : i % 3 == 1 ? "bad_json" : "unknown_sender");
      }
      client.sendRaw(burst.toString().getBytes(StandardCharsets.UTF_8));
      for (String want : expected) {
        JsonNode answer = client.read();
        String got = answer.path("type").asText().equals("echo")
            ? "echo:" + answer.path("body").path("text").asText()
            : answer.path("code").asText();
        assertEquals(want, got);
      }
    }
  }

  @Test
  void answersEveryFrameOfAClientThatHalfClosesThenCloses() throws Exception {
    try (TestClient client = connect()) {
      TestIdentity heidi = register(client, "heidi");
      StringBuilder burst = new StringBuilder();
      for (int i = 0; i < 50; i++) {
        burst.append(heidi.frame(echo("h" + i))).append('\n');
      }
      client.sendRaw(burst.toString().getBytes(StandardCharsets.UTF_8));
      client.shutdownOutput();
      for (int i = 0; i < 50; i++) {
        assertEquals("h" + i, client.read().path("body").path("text").asText());
      }
      assertTrue(client.closedByServer());
    }
  }

  @Test
  void refusesAuthWithAnotherConnectionsChallenge() throws Exception {
    try (TestClient a = connect(); TestClient b = connect()) {
      TestIdentity grace = TestIdentity.random();
      assertError(a.call(grace.frame(auth(b, "grace#example.com"))), "forbidden");
      assertError(a.call(grace.frame(auth(a, "grace#other.example"))), "forbidden");
      assertEquals("ack", a.call(grace.frame(auth(a, "grace#example.com"))).path("type").asText());
      // The address is now bound to grace's key: another key cannot take it.
      assertError(b.call(TestIdentity.random().frame(auth(b, "grace#example.com"))), "forbidden");
      // And grace authenticates again without registering anew.
      JsonNode again = b.call(grace.frame(auth(b, "grace#example.com")));
      assertEquals("ack", again.path("type").asText());
      assertFalse(again.path("registered").asBoolean());
    }
  }

}
