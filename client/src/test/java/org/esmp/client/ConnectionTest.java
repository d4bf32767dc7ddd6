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
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** One connection against {@link FakeServer}: hello, answer matching, deliveries, the end. */
@Timeout(30)
class ConnectionTest {

  private static final SigningKey ALICE = SigningKey.generate();
  private static final Duration FIVE_SECONDS = Duration.ofSeconds(5);

  /** What the reader thread reported. */
  private static final class Heard implements Connection.Events {
    final LinkedBlockingQueue<ObjectNode> delivered = new LinkedBlockingQueue<>();
    final LinkedBlockingQueue<Optional<Throwable>> ended = new LinkedBlockingQueue<>();

    @Override
    public void delivered(Connection from, ObjectNode frame) {
      delivered.add(frame);
    }

    @Override
    public void ended(Connection which, Throwable cause) {
      ended.add(Optional.ofNullable(cause));
    }
  }

  /** Answers each frame with an ack carrying the frame's type, or an error for type "fail". */
  static void ackAll(FakeServer.Conn conn, ObjectNode frame) throws IOException {
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
  void readsTheHello() throws Exception {
    try (FakeServer server = new FakeServer(ConnectionTest::ackAll)) {
      Connection c = open(server, new Heard());
      assertEquals("esmp/1", c.hello().path("protocol").asText());
      assertEquals(FakeServer.DOMAIN, c.hello().path("domain").asText());
      assertTrue(c.isOpen());
      c.close();
    }
  }

  @Test
  void refusesWhatIsNotAnEsmp1Server() throws Exception {
    IOException other = assertThrows(IOException.class,
        () -> openRaw("{\"type\":\"hello\",\"protocol\":\"esmp/2\"}\n"));
    assertTrue(other.getMessage().endsWith(" speaks \"esmp/2\", not esmp/1"), other.getMessage());
    IOException notHello = assertThrows(IOException.class, () -> openRaw("{\"type\":\"ping\"}\n"));
    assertTrue(notHello.getMessage().contains(" is not an ESMP server: "), notHello.getMessage());
    IOException closed = assertThrows(IOException.class, () -> openRaw(""));
    assertTrue(closed.getMessage().endsWith(" closed the connection before hello"), closed.getMessage());
  }

  @Test
  void matchesPipelinedAnswersToTheirMessagesById() throws Exception {
    try (FakeServer server = new FakeServer(ConnectionTest::ackAll)) {
      Connection c = open(server, new Heard());
      List<CompletableFuture<ObjectNode>> answers = new ArrayList<>();
      for (String type : List.of("one", "two", "fail", "three")) {
        answers.add(write(c, type, ""));
      }
      assertEquals("one", answers.get(0).get(5, TimeUnit.SECONDS).path("echo").asText());
      assertEquals("two", answers.get(1).get(5, TimeUnit.SECONDS).path("echo").asText());
      ExecutionException failed = assertThrows(ExecutionException.class,
          () -> answers.get(2).get(5, TimeUnit.SECONDS));
      ServerException error = assertInstanceOf(ServerException.class, failed.getCause());
      assertEquals("not_member", error.code());
      assertEquals("not_member: not a member", error.getMessage());
      assertEquals(FakeServer.idOf(server.received.stream().toList().get(2)), error.re());
      assertEquals("three", answers.get(3).get(5, TimeUnit.SECONDS).path("echo").asText());
      c.close();
    }
  }

  @Test
  void anAnswerWithoutAnIdAnswersTheOldestMessageAndAStrangeOneNothing() throws Exception {
    try (FakeServer server = new FakeServer((conn, frame) -> {
          ObjectNode stranger = FakeServer.JSON.createObjectNode();
          conn.send(stranger.put("type", "ack").put("re", "0".repeat(64)).put("duplicate", false));
          ObjectNode badJson = FakeServer.JSON.createObjectNode();
          badJson.put("type", "error").putNull("re");
          conn.send(badJson.put("code", "bad_json").put("message", "not JSON"));
        })) {
      Connection c = open(server, new Heard());
      CompletableFuture<ObjectNode> first = write(c, "one", "");
      ExecutionException e = assertThrows(ExecutionException.class, () -> first.get(5, TimeUnit.SECONDS));
      ServerException error = assertInstanceOf(ServerException.class, e.getCause());
      assertEquals("bad_json", error.code());
      assertNull(error.re());
      c.close();
    }
  }

  @Test
  void refusesAMessageOverTheServersMaxFrameAndWritesNothing() throws Exception {
    try (FakeServer server = new FakeServer(ConnectionTest::ackAll)) {
      Connection c = open(server, new Heard());
      IOException e = assertThrows(IOException.class, () -> write(c, "big", "x".repeat(70_000)));
      assertTrue(e.getMessage().endsWith(" bytes is over the server's 65536"), e.getMessage());
      assertEquals("small", write(c, "small", "").get(5, TimeUnit.SECONDS).path("echo").asText());
      assertEquals(1, server.received.size());
      c.close();
    }
  }

  @Test
  void handsDeliveriesOnAndIgnoresPings() throws Exception {
    try (FakeServer server = new FakeServer((conn, frame) -> {
          conn.send(FakeServer.JSON.createObjectNode().put("type", "ping"));
          conn.send(FakeServer.deliver(1, "bob#example.com",
              FakeServer.text(SigningKey.generate(), "alice#example.com", "hi", 1)));
          conn.ack(frame);
        })) {
      Heard heard = new Heard();
      Connection c = open(server, heard);
      write(c, "sync", "").get(5, TimeUnit.SECONDS);
      ObjectNode delivered = heard.delivered.poll(5, TimeUnit.SECONDS);
      assertEquals("deliver", delivered.path("type").asText());
      assertEquals(1, delivered.path("cursor").asLong());
      assertTrue(heard.delivered.isEmpty());
      c.close();
    }
  }

  @Test
  void failsPendingAnswersAndReportsTheEndOnceWhenTheServerCloses() throws Exception {
    try (FakeServer server = new FakeServer((conn, frame) -> conn.close())) {
      Heard heard = new Heard();
      Connection c = open(server, heard);
      CompletableFuture<ObjectNode> answer = write(c, "text", "");
      ExecutionException e = assertThrows(ExecutionException.class, () -> answer.get(5, TimeUnit.SECONDS));
      assertInstanceOf(ConnectionClosedException.class, e.getCause());
      assertEquals(Optional.empty(), heard.ended.poll(5, TimeUnit.SECONDS), "a clean end has no cause");
      assertFalse(c.isOpen());
      assertThrows(ConnectionClosedException.class, () -> write(c, "again", ""));
      assertNull(heard.ended.poll(200, TimeUnit.MILLISECONDS));
    }
  }

  @Test
  void closingFailsWhatIsPendingAndReportsTheEnd() throws Exception {
    try (FakeServer server = new FakeServer((conn, frame) -> { })) {
      Heard heard = new Heard();
      Connection c = open(server, heard);
      CompletableFuture<ObjectNode> unanswered = write(c, "text", "");
      c.close();
      c.awaitReader(FIVE_SECONDS);
      assertNotNull(heard.ended.poll(5, TimeUnit.SECONDS));
      ExecutionException e = assertThrows(ExecutionException.class, () -> unanswered.get(5, TimeUnit.SECONDS));
      assertInstanceOf(ConnectionClosedException.class, e.getCause());
      assertNull(heard.ended.poll(200, TimeUnit.MILLISECONDS));
    }
  }

  /**
   * A server stops reading a connection whose answers go unread (its output budget). Before, a
   * write blocked in that state held the lock the reader needs to hand out every answer, so the
   * reader stopped reading and both sides waited forever. Here the server, on the first frame,
   * writes 18 MB before reading on, while the client pipelines 18 MB of its own.
   */
  @Test
  void aWriteBlockedBecauseTheServerStoppedReadingDoesNotStopTheReader() throws Exception {
    String padding = "p".repeat(60_000);
    AtomicBoolean flooded = new AtomicBoolean();
    try (FakeServer server = new FakeServer((conn, frame) -> {
          if (flooded.compareAndSet(false, true)) {
            for (int i = 0; i < 300; i++) { // not reading meanwhile
              ObjectNode unmatched = FakeServer.JSON.createObjectNode();
              unmatched.put("type", "ack").put("re", "0".repeat(64)).put("duplicate", false).put("padding", padding);
              conn.send(unmatched);
            }
          }
          ackAll(conn, frame);
        })) {
      Connection c = open(server, new Heard());
      ExecutorService writer = Executors.newSingleThreadExecutor();
      try {
        List<CompletableFuture<ObjectNode>> answers = writer.submit(() -> {
          List<CompletableFuture<ObjectNode>> sent = new ArrayList<>();
          for (int i = 0; i < 300; i++) {
            sent.add(write(c, "note", padding));
          }
          return sent;
        }).get(20, TimeUnit.SECONDS);
        for (CompletableFuture<ObjectNode> answer : answers) {
          assertEquals("note", answer.get(20, TimeUnit.SECONDS).path("echo").asText());
        }
      } finally {
        writer.shutdownNow();
        c.close();
      }
    }
  }

  private static Connection open(FakeServer server, Connection.Events events) throws IOException {
    return Connection.open("127.0.0.1", server.port(), null, FIVE_SECONDS, FIVE_SECONDS, events);
  }

  /** Signs a message of {@code type} whose body carries {@code padding}, and writes it. */
  private static CompletableFuture<ObjectNode> write(Connection c, String type, String padding)
      throws IOException {
    ObjectNode m = Frames.newMessage(type);
    m.putObject("body").put("padding", padding);
    m.put("ts", System.currentTimeMillis());
    Messages.Signed signed = Messages.sign(m, ALICE);
    return c.write(signed.id(), Jcs.compact(signed.frame()));
  }

  /** Opens a connection to a server that sends {@code first} and then closes. */
  private static Connection openRaw(String first) throws IOException {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Thread t = new Thread(() -> {
        try (Socket s = server.accept(); OutputStream out = s.getOutputStream()) {
          out.write(first.getBytes(UTF_8));
          out.flush();
        } catch (IOException ignored) {
          // the test sees what the client made of it
        }
      });
      t.setDaemon(true);
      t.start();
      return Connection.open("127.0.0.1", server.getLocalPort(), null, FIVE_SECONDS, FIVE_SECONDS, new Heard());
    }
  }
}
