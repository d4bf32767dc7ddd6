package org.esmp.server;

import static org.esmp.server.testing.Frames.assertAck;
import static org.esmp.server.testing.Frames.assertError;
import static org.esmp.server.testing.Frames.authenticate;
import static org.esmp.server.testing.Frames.keyAdd;
import static org.esmp.server.testing.Frames.keyRevoke;
import static org.esmp.server.testing.Frames.message;
import static org.esmp.server.testing.Frames.now;
import static org.esmp.server.testing.Frames.sync;
import static org.esmp.server.testing.Frames.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;
import org.esmp.json.FrameParser;
import org.esmp.json.JsonWriter;
import org.esmp.server.testing.TestClient;
import org.esmp.server.testing.TestIdentity;
import org.esmp.server.testing.SharedServerTest;
import org.esmp.server.testing.TestUser;
import org.junit.jupiter.api.Test;

/**
 * Identities, direct delivery and the mailbox over TCP, against the real server with the bundled
 * plugins (storage-mapdb, direct-delivery) loaded by PF4J from a plugins directory.
 */
class DeliveryIT extends SharedServerTest {

  private static final ObjectMapper JSON = new ObjectMapper();


  private static TestUser user(String name) throws Exception {
    return TestUser.register(server.port(), name);
  }

  private static TestUser connectAgain(TestUser user) throws Exception {
    return user.reconnect(server.port());
  }

  private static List<JsonNode> syncAll(TestUser user, long since) throws Exception {
    return user.syncAll(since);
  }

  @Test
  void deliversLiveToASyncedRecipient() throws Exception {
    TestUser alice = user("alice");
    TestUser bob = user("bob");
    List<JsonNode> synced = syncAll(bob, 0);
    assertEquals(List.of("synced"), synced.stream().map(f -> f.path("type").asText()).toList());
    assertEquals(0, synced.get(0).path("cursor").asLong());

    JsonObject hello = text("hello bob", bob.address());
    JsonNode ack = assertAck(alice.send(hello));
    assertFalse(ack.path("duplicate").asBoolean());
    assertFalse(ack.has("rejected"));

    JsonNode deliver = bob.client().read();
    assertEquals("deliver", deliver.path("type").asText());
    assertEquals(1, deliver.path("cursor").asLong());
    assertEquals(ack.path("re").asText(), deliver.path("id").asText());
    assertEquals(alice.address(), deliver.path("from").asText());
    assertTrue(deliver.path("received_at").asLong() > 0);
    assertEquals("hello bob", deliver.path("message").path("body").path("text").asText());
    assertSignatureVerifies(deliver.path("message"));
  }

  /** What a recipient does: canonicalize the message minus signature and key, verify. */
  private static void assertSignatureVerifies(JsonNode message) throws Exception {
    byte[] raw = JSON.writeValueAsBytes(message);
    JsonObject parsed = new FrameParser().parse(raw, 0, raw.length);
    byte[] signingBytes = JsonWriter.canonicalWithout(parsed, "signature", "sender_pubkey");
    Ed25519Signer verifier = new Ed25519Signer();
    verifier.init(false, new Ed25519PublicKeyParameters(
        Base64.getDecoder().decode(message.path("sender_pubkey").asText()), 0));
    verifier.update(signingBytes, 0, signingBytes.length);
    assertTrue(verifier.verifySignature(Base64.getDecoder().decode(message.path("signature").asText())));
  }

  @Test
  void deliversToAnOfflineRecipientThroughSyncAndNothingTwiceFromACursor() throws Exception {
    TestUser alice = user("alice");
    TestUser carol = user("carol");
    carol.client().close();
    List<String> ids = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      ids.add(assertAck(alice.send(text("note " + i, carol.address()))).path("re").asText());
    }
    TestUser back = connectAgain(carol);
    List<JsonNode> frames = syncAll(back, 0);
    assertEquals(4, frames.size());
    for (int i = 0; i < 3; i++) {
      assertEquals(ids.get(i), frames.get(i).path("id").asText());
      assertEquals(i + 1, frames.get(i).path("cursor").asLong());
      assertEquals("note " + (i + 1), frames.get(i).path("message").path("body").path("text").asText());
    }
    assertEquals("synced", frames.get(3).path("type").asText());
    assertEquals(3, frames.get(3).path("cursor").asLong());

    // From cursor 2: only the third; from 3: nothing; and then live from 4 on.
    frames = syncAll(back, 2);
    assertEquals(List.of(3L, 3L), frames.stream().map(f -> f.path("cursor").asLong()).toList());
    frames = syncAll(back, 3);
    assertEquals(1, frames.size());
    assertEquals("synced", frames.get(0).path("type").asText());
    assertAck(alice.send(text("note 4", carol.address())));
    JsonNode live = back.client().read();
    assertEquals(4, live.path("cursor").asLong());
  }

  @Test
  void everyConnectionOfAnAddressReceives() throws Exception {
    TestUser alice = user("alice");
    TestUser dave = user("dave");
    TestUser daveToo = connectAgain(dave);
    syncAll(dave, 0);
    syncAll(daveToo, 0);
    String id = assertAck(alice.send(text("to both", dave.address()))).path("re").asText();
    assertEquals(id, dave.client().read().path("id").asText());
    assertEquals(id, daveToo.client().read().path("id").asText());
  }

  @Test
  void answersAResentMessageAsDuplicateAndDeliversItOnce() throws Exception {
    TestUser alice = user("alice");
    TestUser erin = user("erin");
    syncAll(erin, 0);
    String frame = alice.key().frame(text("once", erin.address(), "ghost#example.com"));
    JsonNode first = assertAck(alice.client().call(frame));
    assertFalse(first.path("duplicate").asBoolean());
    assertEquals("unknown_recipient", first.path("rejected").path("ghost#example.com").asText());
    JsonNode second = assertAck(alice.client().call(frame));
    assertTrue(second.path("duplicate").asBoolean());
    assertEquals(first.path("re"), second.path("re"));
    assertEquals(first.path("rejected"), second.path("rejected"), "the same answer as the first time");
    // Pipelined twice more: the server may still be storing the first.
    alice.client().send(frame);
    alice.client().send(frame);
    assertTrue(assertAck(alice.client().read()).path("duplicate").asBoolean());
    assertTrue(assertAck(alice.client().read()).path("duplicate").asBoolean());

    assertEquals(first.path("re").asText(), erin.client().read().path("id").asText());
    List<JsonNode> all = syncAll(erin, 0);
    assertEquals(2, all.size(), "one delivery, then synced: " + all);
  }

  @Test
  void rejectsUnknownRecipientsAndTooMany() throws Exception {
    TestUser alice = user("alice");
    TestUser frank = user("frank");
    assertError(alice.send(text("nobody", "nobody#example.com")), "unknown_recipient");
    JsonNode partial = assertAck(alice.send(text("some", frank.address(), "nobody#example.com", "x#elsewhere.example")));
    assertEquals("unknown_recipient", partial.path("rejected").path("nobody#example.com").asText());
    assertFalse(partial.path("rejected").has(frank.address()));
    // Another domain's address goes to its server (the federation plugin is installed): relayed.
    assertFalse(partial.path("rejected").has("x#elsewhere.example"), partial.toString());
    assertEquals("[\"x#elsewhere.example\"]", partial.path("relayed").toString());

    String[] many = new String[101];
    for (int i = 0; i < many.length; i++) {
      many[i] = "r" + i + "#example.com";
    }
    assertError(alice.send(text("crowd", many)), "too_many_recipients");
    // Listed twice is one recipient: 100 distinct addresses pass the limit.
    String[] hundred = new String[101];
    System.arraycopy(many, 0, hundred, 0, 100);
    hundred[100] = frank.address();
    hundred[99] = frank.address();
    assertAck(alice.send(text("crowd", hundred)));

    assertError(alice.send(message("text", JsonObject.builder().put("text", "no one").build())), "bad_field");
    assertError(alice.send(JsonObject.builder().put("type", "text").put("to", JsonArray.ofStrings(List.of(frank.address())))
        .put("body", "not an object").put("ts", now()).build()), "bad_field");
  }

  @Test
  void addsAndRevokesKeys() throws Exception {
    TestUser grace = user("grace");
    TestIdentity laptop = TestIdentity.random();
    assertAck(grace.send(keyAdd(grace.address(), grace.key(), laptop)));

    JsonNode keys = grace.send(message("lookup", JsonObject.builder().put("address", grace.address()).build()));
    assertEquals("keys", keys.path("type").asText());
    assertEquals(List.of(grace.key().publicKey(), laptop.publicKey()),
        JSON.convertValue(keys.path("keys"), List.class));

    // The laptop signs on its own now. It may not revoke the primary key, but the primary may
    // revoke itself: its connection is closed and the laptop becomes primary, and last.
    TestClient laptopClient = new TestClient(server.port());
    assertAck(laptopClient.call(laptop.frame(text("from the laptop", grace.address()))));
    assertError(laptopClient.call(laptop.frame(keyRevoke(grace.key().publicKey()))), "forbidden");
    assertAck(laptopClient.call(grace.key().frame(keyRevoke(grace.key().publicKey()))));
    assertTrue(grace.client().closedByServer(), "connections authenticated with a revoked key are closed");
    assertError(laptopClient.call(grace.key().frame(text("old key", grace.address()))), "unknown_sender");
    assertError(laptopClient.call(laptop.frame(keyRevoke(laptop.publicKey()))), "forbidden");

    // A key of another address cannot be added, even with its holder's proof.
    TestUser henry = user("henry");
    assertError(henry.send(keyAdd(henry.address(), henry.key(), laptop)), "forbidden");
    assertError(henry.send(message("key_add", JsonObject.builder().put("pubkey", "short")
        .put("proof", laptop.signBytes(new byte[1])).build())), "bad_field");
    laptopClient.close();
  }

  @Test
  void looksUpAddresses() throws Exception {
    TestUser ivan = user("ivan");
    JsonNode none = ivan.send(message("lookup", JsonObject.builder().put("address", "nobody#example.com").build()));
    assertEquals("keys", none.path("type").asText());
    assertEquals("nobody#example.com", none.path("address").asText());
    assertEquals(0, none.path("keys").size());
    assertError(ivan.send(message("lookup", JsonObject.builder().put("address", "Not An Address").build())),
        "bad_field");
  }

  @Test
  void refusesStaleMessagesAndSyncWithoutAuth() throws Exception {
    TestUser judy = user("judy");
    assertError(judy.send(text("late", judy.address()).toBuilder().put("ts", System.currentTimeMillis() - 3_600_000).build()),
        "stale");
    try (TestClient anonymous = new TestClient(server.port())) {
      assertError(anonymous.call(judy.key().frame(sync(0))), "auth_required");
      // A connection authenticated as someone else may not sync judy's mailbox.
      TestUser kim = user("kim");
      assertError(kim.client().call(judy.key().frame(sync(0))), "forbidden");
    }
  }

  @Test
  void refusesMessagesFromUnregisteredKeysAndAForgedFrom() throws Exception {
    TestUser liam = user("liam");
    try (TestClient stranger = new TestClient(server.port())) {
      assertError(stranger.call(TestIdentity.random().frame(text("hi", liam.address()))), "unknown_sender");
    }
    assertError(liam.send(text("me", liam.address()).toBuilder().put("from", "someone#example.com").build()), "forbidden");
    assertAck(liam.send(text("me", liam.address()).toBuilder().put("from", liam.address()).build()));
  }

  @Test
  void keepsPipelinedAnswersInOrderAcrossCommits() throws Exception {
    TestUser mia = user("mia");
    TestUser noah = user("noah");
    StringBuilder burst = new StringBuilder();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      if (i % 4 == 3) {
        burst.append(mia.key().frame(text("x", "nobody#example.com"))).append('\n');
        expected.add("error");
      } else {
        burst.append(mia.key().frame(text("n" + i, noah.address()))).append('\n');
        expected.add("ack");
      }
    }
    mia.client().sendRaw(burst.toString().getBytes(StandardCharsets.UTF_8));
    for (String want : expected) {
      assertEquals(want, mia.client().read().path("type").asText());
    }
    List<JsonNode> frames = syncAll(noah, 0);
    assertEquals(151, frames.size());
    for (int i = 0; i < 150; i++) {
      assertEquals(i + 1, frames.get(i).path("cursor").asLong());
    }
  }
}
