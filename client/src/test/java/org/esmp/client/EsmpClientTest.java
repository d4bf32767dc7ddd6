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

/** The client against {@link FakeServer}: answer matching, sync, and refusing forged deliveries. */
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
  void matchesPipelinedAnswersToTheirMessagesById() throws Exception {
    try (FakeServer server = new FakeServer(EsmpClientTest::ackAll);
        EsmpClient client = connect(server, alice())) {
      List<CompletableFuture<ObjectNode>> answers = new ArrayList<>();
      List<String> types = List.of("one", "two", "fail", "three");
      for (String type : types) {
        ObjectNode m = FakeServer.JSON.createObjectNode();
        m.put("type", type);
        m.putObject("body");
        answers.add(client.send(m));
      }
      assertEquals("one", answers.get(0).get(5, TimeUnit.SECONDS).path("echo").asText());
      assertEquals("two", answers.get(1).get(5, TimeUnit.SECONDS).path("echo").asText());
      ExecutionException failed = assertThrows(ExecutionException.class,
          () -> answers.get(2).get(5, TimeUnit.SECONDS));
      assertEquals("not_member", assertInstanceOf(ServerException.class, failed.getCause()).code());
      assertEquals("three", answers.get(3).get(5, TimeUnit.SECONDS).path("echo").asText());
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
  void refusesADeliveryUnderAnotherId() throws Exception {
    ObjectNode message = FakeServer.text(BOB, "alice#example.com", "hi", 1);
    ObjectNode frame = FakeServer.deliver(1, "bob#example.com", message);
    frame.put("id", "00".repeat(32));
    assertThrows(InvalidMessageException.class, () -> Delivery.verified(frame));
    assertEquals("hi", Delivery.verified(FakeServer.deliver(1, "bob#example.com", message)).text());
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
      ObjectNode m = FakeServer.JSON.createObjectNode();
      m.put("type", "text");
      m.putObject("body");
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> client.send(m).get(5, TimeUnit.SECONDS));
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
