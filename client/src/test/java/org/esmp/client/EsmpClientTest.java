package org.esmp.client;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The public API against {@link FakeServer}: JSON text in and out, typed answers, sync, keys, groups. */
@Timeout(30)
class EsmpClientTest {

  private static final SigningKey BOB = SigningKey.generate();

  @TempDir Path dir;

  /** Answers each frame with an ack carrying the frame's type, or an error for type "fail". */
  private static void ackAll(FakeServer.Conn conn, ObjectNode frame) throws IOException {
    ObjectNode answer = FakeServer.JSON.createObjectNode();
    if (frame.path("type").asText().equals("fail")) {
      answer.put("type", "error").put("re", FakeServer.idOf(frame)).put("code", "not_member")
          .put("message", "not a member");
    } else {
      answer.put("type", "ack").put("re", FakeServer.idOf(frame)).put("duplicate", false)
          .put("echo", frame.path("type").asText());
    }
    conn.send(answer);
  }

  @Test
  void sendsJsonTextAndMatchesPipelinedAnswersById() throws Exception {
    try (FakeServer server = new FakeServer(EsmpClientTest::ackAll);
        EsmpClient client = connect(server, alice())) {
      List<CompletableFuture<EsmpClient.Answer>> answers = new ArrayList<>();
      for (String type : List.of("one", "two", "fail", "three")) {
        answers.add(client.send("{\"type\":\"" + type + "\",\"body\":{}}"));
      }
      EsmpClient.Answer one = answers.get(0).get(5, TimeUnit.SECONDS);
      assertEquals("ack", one.type());
      String id = FakeServer.idOf(server.received.poll(5, TimeUnit.SECONDS));
      assertEquals("{\"type\":\"ack\",\"re\":\"" + id + "\",\"duplicate\":false,\"echo\":\"one\"}",
          one.json());
      assertTrue(answers.get(1).get(5, TimeUnit.SECONDS).json().endsWith("\"echo\":\"two\"}"));
      ExecutionException failed = assertThrows(ExecutionException.class,
          () -> answers.get(2).get(5, TimeUnit.SECONDS));
      assertEquals("not_member", assertInstanceOf(ServerException.class, failed.getCause()).code());
      assertInstanceOf(ServerException.class, answers.get(2).handle((a, e) -> e).get(),
          "the failure itself, not wrapped");
      assertTrue(answers.get(3).get(5, TimeUnit.SECONDS).json().endsWith("\"echo\":\"three\"}"));
    }
  }

  @Test
  void signAddsToTsAndTheSignatureAndSendingAgainKeepsTheId() throws Exception {
    Identity me = alice();
    try (FakeServer server = new FakeServer(EsmpClientTest::ackAll);
        EsmpClient client = connect(server, me)) {
      SignedMessage signed = client.sign("{\"type\":\"text\",\"body\":{\"text\":\"hi\"}}");
      ObjectNode message = (ObjectNode) FakeServer.JSON.readTree(signed.json());
      assertEquals("[]", message.path("to").toString());
      assertTrue(message.path("ts").isIntegralNumber());
      assertEquals(me.key().publicKeyBase64(), message.path("sender_pubkey").asText());
      assertEquals(signed.id(), Messages.verify(message));
      client.send(signed).get(5, TimeUnit.SECONDS);
      client.send(signed).get(5, TimeUnit.SECONDS);
      assertEquals(signed.id(), FakeServer.idOf(server.received.poll(5, TimeUnit.SECONDS)));
      assertEquals(signed.id(), FakeServer.idOf(server.received.poll(5, TimeUnit.SECONDS)));
    }
  }

  @Test
  void signRefusesWhatIsNotOneJsonObject() throws Exception {
    try (FakeServer server = new FakeServer(EsmpClientTest::ackAll);
        EsmpClient client = connect(server, alice())) {
      for (String bad : List.of("", "not json", "[]", "\"text\"", "{\"type\":\"a\",\"type\":\"b\"}",
          "{\"type\":\"a\"} {}", "{\"type\":\"a\",\"n\":9007199254740993}")) {
        assertThrows(IllegalArgumentException.class, () -> client.sign(bad), bad);
        assertThrows(IllegalArgumentException.class, () -> client.send(bad), bad);
      }
      assertTrue(server.received.isEmpty());
    }
  }

  @Test
  void callWaitsForTheAnswer() throws Exception {
    try (FakeServer server = new FakeServer(EsmpClientTest::ackAll);
        EsmpClient client = connect(server, alice())) {
      assertTrue(client.call("{\"type\":\"note\"}").json().contains("\"echo\":\"note\""));
      assertEquals("not_member",
          assertThrows(ServerException.class, () -> client.call("{\"type\":\"fail\"}")).code());
    }
  }

  @Test
  void helloIsWhatTheServerSaid() throws Exception {
    try (FakeServer server = new FakeServer(EsmpClientTest::ackAll);
        EsmpClient client = connect(server, alice())) {
      EsmpClient.Hello hello = client.hello();
      String challenge = Base64.getEncoder().encodeToString(new byte[32]);
      assertEquals(new EsmpClient.Hello("esmp/1", FakeServer.DOMAIN, List.of(FakeServer.DOMAIN),
          challenge, 65536, "{\"type\":\"hello\",\"protocol\":\"esmp/1\",\"domain\":\"example.com\","
          + "\"domains\":[\"example.com\"],\"challenge\":\"" + challenge + "\",\"max_frame\":65536}"), hello);
    }
  }

  @Test
  void sendTextReadsTheAck() throws Exception {
    try (FakeServer server = new FakeServer((conn, frame) -> {
          ObjectNode ack = FakeServer.JSON.createObjectNode();
          ack.put("type", "ack").put("re", FakeServer.idOf(frame)).put("duplicate", true);
          ack.putObject("rejected").put("nobody#example.com", "unknown_recipient")
              .put("gone#example.com", "unknown_recipient");
          conn.send(ack);
        });
        EsmpClient client = connect(server, alice())) {
      EsmpClient.Ack ack = client.sendText(List.of("bob#example.com", "nobody#example.com"),
          List.of("gone#example.com"), "hi");
      ObjectNode text = server.received.poll(5, TimeUnit.SECONDS);
      assertEquals("[\"bob#example.com\",\"nobody#example.com\"]", text.path("to").toString());
      assertEquals("[\"gone#example.com\"]", text.path("cc").toString());
      assertEquals("hi", text.path("body").path("text").asText());
      assertEquals(FakeServer.idOf(text), ack.id());
      assertTrue(ack.duplicate());
      assertNull(ack.seq());
      assertEquals(java.util.Map.of("nobody#example.com", "unknown_recipient",
          "gone#example.com", "unknown_recipient"), ack.rejected());
      assertEquals("{\"type\":\"ack\",\"re\":\"" + ack.id() + "\",\"duplicate\":true,\"rejected\":"
          + "{\"nobody#example.com\":\"unknown_recipient\",\"gone#example.com\":\"unknown_recipient\"}}",
          ack.json());
    }
  }

  @Test
  void lookupReadsTheKeys() throws Exception {
    try (FakeServer server = new FakeServer((conn, frame) -> {
          ObjectNode keys = FakeServer.JSON.createObjectNode();
          keys.put("type", "keys").put("re", FakeServer.idOf(frame))
              .put("address", frame.path("body").path("address").asText());
          keys.putArray("keys").add(BOB.publicKeyBase64());
          conn.send(keys);
        });
        EsmpClient client = connect(server, alice())) {
      assertEquals(List.of(BOB.publicKeyBase64()), client.lookup("bob#example.com"));
      assertThrows(IllegalArgumentException.class, () -> client.lookup("Bob"));
    }
  }

  @Test
  void groupOperationsAreSignedGroupMessages() throws Exception {
    try (FakeServer server = new FakeServer((conn, frame) -> {
          ObjectNode answer = FakeServer.JSON.createObjectNode();
          if (frame.path("type").asText().equals("group_info")) {
            answer.put("type", "group").put("re", FakeServer.idOf(frame))
                .put("group_id", frame.path("group_id").asText()).putNull("name").put("policy", "open");
            answer.putArray("members").add("alice#example.com");
            answer.putArray("admins").add("alice#example.com");
            answer.put("seq", 2);
          } else {
            answer.put("type", "ack").put("re", FakeServer.idOf(frame)).put("duplicate", false).put("seq", 2);
          }
          conn.send(answer);
        });
        EsmpClient client = connect(server, alice())) {
      String group = client.createGroup(null, List.of(), true);
      assertEquals(2L, client.post(group, "hi").seq());
      EsmpClient.GroupInfo info = client.groupInfo(group);
      assertEquals(new EsmpClient.GroupInfo(group, null, "open", List.of("alice#example.com"),
          List.of("alice#example.com"), 2, "{\"type\":\"group\",\"re\":\""
          + FakeServer.idOf(server.received.stream().toList().get(2)) + "\",\"group_id\":\"" + group
          + "\",\"name\":null,\"policy\":\"open\",\"members\":[\"alice#example.com\"],"
          + "\"admins\":[\"alice#example.com\"],\"seq\":2}"), info);
      for (ObjectNode sent : server.received) {
        assertEquals(group, sent.path("group_id").asText());
        assertEquals(FakeServer.idOf(sent), Messages.verify(sent));
      }
    }
  }

  /** Syncs: deliveries of cursors 1 (good), 2 (body altered after signing), 3 (good). */
  private static void forgedSecondDelivery(FakeServer.Conn conn, ObjectNode frame) throws IOException {
    if (!frame.path("type").asText().equals("sync")) {
      conn.ack(frame);
      return;
    }
    ObjectNode first = FakeServer.text(BOB, "alice#example.com", "hello", 1);
    ObjectNode forged = FakeServer.text(BOB, "alice#example.com", "pay 10 euros", 2);
    String id = FakeServer.idOf(forged);
    ObjectNode tampered = forged.deepCopy();
    ((ObjectNode) tampered.get("body")).put("text", "pay 1000 euros");
    ObjectNode forgedDelivery = FakeServer.deliver(2, "bob#example.com", tampered);
    forgedDelivery.put("id", id); // the id of what Bob signed, as a forging server would keep it
    conn.send(FakeServer.deliver(1, "bob#example.com", first));
    conn.send(forgedDelivery);
    conn.send(FakeServer.deliver(3, "bob#example.com",
        FakeServer.text(BOB, "alice#example.com", "bye", 3)));
    ObjectNode synced = FakeServer.JSON.createObjectNode();
    synced.put("type", "synced").put("re", FakeServer.idOf(frame)).put("cursor", 3);
    conn.send(synced);
  }

  @Test
  void refusesADeliveryWhoseSignatureDoesNotVerify() throws Exception {
    Identity me = Identity.create(dir.resolve("alice.json"), "alice#example.com");
    LinkedBlockingQueue<Object> seen = new LinkedBlockingQueue<>();
    try (FakeServer server = new FakeServer(EsmpClientTest::forgedSecondDelivery);
        EsmpClient client = connect(server, me)) {
      client.auth();
      assertEquals(3, client.sync(new DeliveryListener() {
        @Override
        public void onDelivery(Delivery d) {
          seen.add(d);
        }

        @Override
        public void onRefused(InvalidMessageException e) {
          seen.add(e);
        }
      }));
      Delivery first = assertInstanceOf(Delivery.class, seen.poll(5, TimeUnit.SECONDS));
      assertEquals("hello", first.text());
      InvalidMessageException refused =
          assertInstanceOf(InvalidMessageException.class, seen.poll(5, TimeUnit.SECONDS));
      assertTrue(refused.getMessage().contains("signature does not verify"), refused.getMessage());
      assertEquals(2L, refused.delivery().cursor());
      assertEquals("bye", assertInstanceOf(Delivery.class, seen.poll(5, TimeUnit.SECONDS)).text());
      assertNull(seen.poll(200, TimeUnit.MILLISECONDS));
    }
    assertEquals(3, Identity.load(dir.resolve("alice.json")).cursor());
  }

  @Test
  void queuedDeliveriesSaveTheirCursorWhenDone() throws Exception {
    Identity me = Identity.create(dir.resolve("alice.json"), "alice#example.com");
    try (FakeServer server = new FakeServer(EsmpClientTest::forgedSecondDelivery);
        EsmpClient client = connect(server, me)) {
      client.auth();
      DeliveryQueue queue = client.syncQueue();
      Delivery first = queue.take(Duration.ofSeconds(5));
      assertEquals("hello", first.text());
      assertEquals(0, Identity.load(dir.resolve("alice.json")).cursor());
      queue.done(first);
      assertEquals(1, Identity.load(dir.resolve("alice.json")).cursor());
      InvalidMessageException refused =
          assertThrows(InvalidMessageException.class, () -> queue.take(Duration.ofSeconds(5)));
      assertEquals(2L, refused.delivery().cursor());
      assertEquals("bye", queue.take(Duration.ofSeconds(5)).text());
    }
  }

  @Test
  void aReconnectTheServerRefusesEndsTheSyncForGood() throws Exception {
    FakeServer.Script script = (conn, frame) -> {
      if (conn.number > 1) { // e.g. the key was revoked meanwhile
        ObjectNode error = FakeServer.JSON.createObjectNode();
        error.put("type", "error").put("re", FakeServer.idOf(frame)).put("code", "forbidden")
            .put("message", "key revoked");
        conn.send(error);
        return;
      }
      conn.ack(frame);
      if (frame.path("type").asText().equals("sync")) {
        conn.close();
      }
    };
    LinkedBlockingQueue<Throwable> closed = new LinkedBlockingQueue<>();
    try (FakeServer server = new FakeServer(script);
        EsmpClient client = EsmpClient.builder(alice()).server("127.0.0.1", server.port())
            .autoReconnect(true).connect()) {
      client.auth();
      client.sync(new DeliveryListener() {
        @Override
        public void onDelivery(Delivery d) {}

        @Override
        public void onRefused(InvalidMessageException e) {}

        @Override
        public void onClosed(Throwable cause) {
          closed.add(cause);
        }
      });
      ServerException refused = assertInstanceOf(ServerException.class, closed.poll(10, TimeUnit.SECONDS));
      assertEquals("forbidden", refused.code());
      assertNull(closed.poll(1500, TimeUnit.MILLISECONDS), "no second round");
      assertEquals(List.of("auth", "sync", "auth"),
          server.received.stream().map(f -> f.path("type").asText()).toList());
      assertThrows(ConnectionClosedException.class, client::auth);
    }
  }

  @Test
  void failsPendingAnswersWhenTheConnectionDrops() throws Exception {
    try (FakeServer server = new FakeServer((conn, frame) -> conn.close());
        EsmpClient client = connect(server, alice())) {
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> client.send("{\"type\":\"text\",\"body\":{}}").get(5, TimeUnit.SECONDS));
      assertInstanceOf(ConnectionClosedException.class, e.getCause());
    }
  }

  @Test
  void addKeySendsTheNewKeysProofOverAddressAndSigner() throws Exception {
    SigningKey laptop = SigningKey.generate();
    Identity me = alice();
    try (FakeServer server = new FakeServer(EsmpClientTest::ackAll);
        EsmpClient client = connect(server, me)) {
      client.addKey(laptop);
      ObjectNode keyAdd = server.received.poll(5, TimeUnit.SECONDS);
      assertNotNull(keyAdd);
      assertEquals("key_add", keyAdd.path("type").asText());
      assertTrue(keyAdd.path("ts").isIntegralNumber(), "key_add carries a ts");
      assertEquals(FakeServer.idOf(keyAdd), Messages.verify(keyAdd));
      assertEquals(laptop.publicKeyBase64(), keyAdd.path("body").path("pubkey").asText());
      byte[] signed = ("esmp-key-add\nalice#example.com\n" + me.key().publicKeyBase64()).getBytes(UTF_8);
      byte[] proof = Base64.getDecoder().decode(keyAdd.path("body").path("proof").asText());
      assertTrue(SigningKey.verify(laptop.publicKey(), signed, proof), "the proof is the new key's signature");
      assertFalse(SigningKey.verify(me.key().publicKey(), signed, proof));

      client.revokeKey(laptop.publicKeyBase64());
      ObjectNode revoke = server.received.poll(5, TimeUnit.SECONDS);
      assertEquals("key_revoke", revoke.path("type").asText());
      assertEquals(laptop.publicKeyBase64(), revoke.path("body").path("pubkey").asText());
      assertTrue(revoke.path("ts").isIntegralNumber(), "key_revoke carries a ts");
    }
  }

  private static Identity alice() {
    return Identity.inMemory("alice#example.com", SigningKey.generate());
  }

  private static EsmpClient connect(FakeServer server, Identity me) throws IOException {
    return EsmpClient.connect("127.0.0.1", server.port(), me);
  }
}
