package org.esmp.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A client's session against {@link FakeServer}: signing, waiting, auth, sync, reconnect. */
@Timeout(30)
class SessionTest {

  private static final SigningKey BOB = SigningKey.generate();

  @TempDir Path dir;

  @Test
  void signAddsAnEmptyToAndTheTimeWhenAbsent() throws Exception {
    Session session = new Session("127.0.0.1", 1, null, alice(), Duration.ofSeconds(1), Duration.ofSeconds(1), false);
    long before = System.currentTimeMillis();
    ObjectNode message = FakeServer.JSON.createObjectNode().put("type", "text");
    SignedMessage signed = session.sign(message);
    assertEquals("[]", message.path("to").toString());
    assertTrue(message.path("ts").asLong() >= before);
    assertEquals(signed.id(), Messages.verify(message));

    ObjectNode given = FakeServer.JSON.createObjectNode().put("type", "text").put("ts", 5);
    given.putArray("to").add("bob#example.com");
    session.sign(given);
    assertEquals(5, given.path("ts").asLong());
    assertEquals("[\"bob#example.com\"]", given.path("to").toString());
  }

  @Test
  void callSignsSendsAndWaitsForTheAnswer() throws Exception {
    try (FakeServer server = new FakeServer(ConnectionTest::ackAll)) {
      Session session = connect(server, alice(), false);
      ObjectNode answer = session.call(FakeServer.JSON.createObjectNode().put("type", "note"));
      assertEquals("note", answer.path("echo").asText());
      ObjectNode sent = server.received.poll(5, TimeUnit.SECONDS);
      assertEquals(FakeServer.idOf(sent), answer.path("re").asText());
      ServerException error = assertThrows(ServerException.class,
          () -> session.call(FakeServer.JSON.createObjectNode().put("type", "fail")));
      assertEquals("not_member", error.code());
      session.close();
    }
  }

  @Test
  void waitsAtMostTheAnswerTimeout() throws Exception {
    try (FakeServer server = new FakeServer((conn, frame) -> { })) {
      Session session = new Session("127.0.0.1", server.port(), null, alice(), Duration.ofSeconds(5),
          Duration.ofMillis(200), false);
      session.connect();
      IOException e = assertThrows(IOException.class,
          () -> session.call(FakeServer.JSON.createObjectNode().put("type", "note")));
      assertEquals("no answer from 127.0.0.1:" + server.port() + " within PT0.2S", e.getMessage());
      session.close();
    }
  }

  @Test
  void authAnswersTheHelloChallengeAndReportsARegistration() throws Exception {
    try (FakeServer server = new FakeServer((conn, frame) -> {
          ObjectNode ack = FakeServer.JSON.createObjectNode();
          ack.put("type", "ack").put("re", FakeServer.idOf(frame)).put("duplicate", false)
              .put("address", frame.path("body").path("address").asText()).put("registered", true);
          conn.send(ack);
        })) {
      Session session = connect(server, alice(), false);
      assertTrue(session.auth());
      ObjectNode auth = server.received.poll(5, TimeUnit.SECONDS);
      assertNotNull(auth);
      assertEquals("auth", auth.path("type").asText());
      assertEquals("alice#example.com", auth.path("body").path("address").asText());
      assertEquals(Base64.getEncoder().encodeToString(new byte[32]),
          auth.path("body").path("challenge").asText());
      assertEquals(FakeServer.DOMAIN, auth.path("body").path("domain").asText());
      assertTrue(auth.path("ts").isIntegralNumber(), "auth carries a ts");
      assertEquals(FakeServer.idOf(auth), Messages.verify(auth));
      session.close();
    }
  }

  @Test
  void syncAsksForWhatComesAfterTheSavedCursor() throws Exception {
    Identity me = alice();
    me.saveCursor(41);
    try (FakeServer server = new FakeServer((conn, frame) -> {
          ObjectNode synced = FakeServer.JSON.createObjectNode();
          conn.send(synced.put("type", "synced").put("re", FakeServer.idOf(frame)).put("cursor", 44));
        })) {
      Session session = connect(server, me, false);
      assertEquals(44, session.sync(new Listener(), true));
      ObjectNode sync = server.received.poll(5, TimeUnit.SECONDS);
      assertEquals("sync", sync.path("type").asText());
      assertEquals(41, sync.path("body").path("since").asLong());
      session.close();
    }
  }

  @Test
  void withoutReconnectALostConnectionEndsTheSync() throws Exception {
    try (FakeServer server = new FakeServer((conn, frame) -> {
          conn.ack(frame);
          conn.close();
        })) {
      Session session = connect(server, alice(), false);
      Listener listener = new Listener();
      session.sync(listener, true);
      assertNotNull(listener.closed.poll(5, TimeUnit.SECONDS));
      ConnectionClosedException e = assertThrows(ConnectionClosedException.class, session::auth);
      assertEquals("not connected to 127.0.0.1:" + server.port(), e.getMessage());
      session.close();
    }
  }

  @Test
  void closingEndsEverything() throws Exception {
    try (FakeServer server = new FakeServer(ConnectionTest::ackAll)) {
      Session session = connect(server, alice(), true);
      Listener listener = new Listener();
      session.sync(listener, true);
      session.close();
      assertNotNull(listener.closed.poll(5, TimeUnit.SECONDS), "the listener hears of it");
      ConnectionClosedException e = assertThrows(ConnectionClosedException.class, session::auth);
      assertEquals("client is closed", e.getMessage());
      ExecutionException failed = assertThrows(ExecutionException.class, () -> session.send(
          session.sign(FakeServer.JSON.createObjectNode().put("type", "note"))).get(5, TimeUnit.SECONDS));
      assertInstanceOf(ConnectionClosedException.class, failed.getCause());
      Thread.sleep(1500);
      assertEquals(1, server.received.size(), "no reconnect after close");
    }
  }

  @Test
  void reconnectsAndResumesFromTheLastCursor() throws Exception {
    Identity me = Identity.create(dir.resolve("alice.json"), "alice#example.com");
    LinkedBlockingQueue<Long> sinces = new LinkedBlockingQueue<>();
    FakeServer.Script script = (conn, frame) -> {
      if (!frame.path("type").asText().equals("sync")) {
        conn.ack(frame);
        return;
      }
      long since = frame.path("body").path("since").asLong();
      sinces.add(since);
      conn.send(FakeServer.deliver(since + 1, "bob#example.com",
          FakeServer.text(BOB, "alice#example.com", "n" + (since + 1), since + 1)));
      ObjectNode synced = FakeServer.JSON.createObjectNode();
      synced.put("type", "synced").put("re", FakeServer.idOf(frame)).put("cursor", since + 1);
      conn.send(synced);
      if (conn.number == 1) {
        conn.close(); // the first connection drops after one delivery
      }
    };
    try (FakeServer server = new FakeServer(script)) {
      Session session = connect(server, me, true);
      session.auth();
      Listener listener = new Listener();
      session.sync(listener, true);
      assertEquals("n1", listener.texts.poll(5, TimeUnit.SECONDS));
      assertEquals("n2", listener.texts.poll(10, TimeUnit.SECONDS));
      assertEquals(List.of(0L, 1L), List.of(sinces.poll(), sinces.poll()));
      assertEquals(List.of("auth", "sync", "auth", "sync"),
          server.received.stream().map(f -> f.path("type").asText()).toList());
      assertNull(listener.closed.poll(100, TimeUnit.MILLISECONDS), "not closed: resumed");
      session.close();
    }
    assertEquals(2, Identity.load(dir.resolve("alice.json")).cursor());
  }

  /** Records texts and the end. */
  private static final class Listener implements DeliveryListener {
    final LinkedBlockingQueue<String> texts = new LinkedBlockingQueue<>();
    final LinkedBlockingQueue<Optional<Throwable>> closed = new LinkedBlockingQueue<>();

    @Override
    public void onDelivery(Delivery d) {
      texts.add(d.text());
    }

    @Override
    public void onRefused(InvalidMessageException e) {
      texts.add("refused");
    }

    @Override
    public void onClosed(Throwable cause) {
      closed.add(Optional.ofNullable(cause));
    }
  }

  private static Identity alice() {
    return Identity.inMemory("alice#example.com", SigningKey.generate());
  }

  private static Session connect(FakeServer server, Identity me, boolean autoReconnect)
      throws IOException {
    Session session = new Session("127.0.0.1", server.port(), null, me, Duration.ofSeconds(5),
        Duration.ofSeconds(5), autoReconnect);
    session.connect();
    return session;
  }
}
