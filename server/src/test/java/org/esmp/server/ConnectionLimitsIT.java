package org.esmp.server;

import static org.esmp.server.testing.Frames.assertError;
import static org.esmp.server.testing.Frames.authenticate;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.esmp.api.json.JsonObject;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.testing.Frames;
import org.esmp.server.testing.TestClient;
import org.esmp.server.testing.TestIdentity;
import org.esmp.server.testing.TestServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The connection limits and deadlines of ESMP/1 section 3, over TCP against the real server, with
 * limits lowered so that a few connections from 127.0.0.1 reach them.
 */
class ConnectionLimitsIT {

  @TempDir Path data;

  private EsmpServer start(ServerConfig.Builder config) throws Exception {
    return EsmpServer.start(config.build());
  }

  /** Reads the refusal a connection over a limit gets instead of hello, and checks it is then closed. */
  private static JsonNode assertRefused(TestClient refused) throws Exception {
    JsonNode error = refused.hello();
    assertError(error, "rate_limited");
    assertTrue(error.has("re") && error.get("re").isNull(), error.toString());
    assertTrue(error.path("retry_after_ms").asLong() > 0, error.toString());
    assertTrue(refused.closedByServer(), "closed after its one error line");
    return error;
  }

  private static void assertServed(TestClient client) {
    assertEquals("hello", client.hello().path("type").asText(), client.hello().toString());
  }

  @Test
  void refusesAConnectionPastThePerIpLimitWithOneErrorAndFreesASlotOnClose() throws Exception {
    try (EsmpServer server = start(TestServers.config(data).maxConnectionsPerIp(3));
        TestClient a = new TestClient(server.port());
        TestClient b = new TestClient(server.port())) {
      TestClient c = new TestClient(server.port());
      List.of(a, b, c).forEach(ConnectionLimitsIT::assertServed);
      try (TestClient fourth = new TestClient(server.port())) {
        JsonNode error = assertRefused(fourth);
        assertTrue(error.path("message").asText().contains("127.0.0.1"), error.toString());
      }
      c.close();
      // The slot is given back once the server sees the close: retry briefly.
      try (TestClient again = connectWithin(server.port(), Duration.ofSeconds(5))) {
        assertServed(again);
      }
    }
  }

  @Test
  void refusesAConnectionPastTheTotalLimit() throws Exception {
    try (EsmpServer server = start(TestServers.config(data).maxConnections(2).maxConnectionsPerIp(2));
        TestClient a = new TestClient(server.port());
        TestClient b = new TestClient(server.port());
        TestClient third = new TestClient(server.port())) {
      assertServed(a);
      assertServed(b);
      JsonNode error = assertRefused(third);
      assertTrue(error.path("message").asText().contains("maximum of 2 connections"), error.toString());
    }
  }

  /** A connection that gets hello (the first of them while the server still counts a closed one is refused). */
  private static TestClient connectWithin(int port, Duration within) throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    while (true) {
      TestClient client = new TestClient(port);
      if (client.hello().path("type").asText().equals("hello") || System.nanoTime() > deadline) {
        return client;
      }
      client.close();
      Thread.sleep(50);
    }
  }

  /**
   * max_connections_per_address: an auth past it is rate_limited (the connection stays, not
   * authenticated); once one of the address's connections closes, an auth succeeds again.
   */
  @Test
  void refusesAnAuthPastTheConnectionsPerAddressLimitUntilOneCloses() throws Exception {
    TestIdentity ada = TestIdentity.random();
    try (EsmpServer server = start(TestServers.config(data).maxConnectionsPerAddress(2));
        TestClient first = new TestClient(server.port());
        TestClient second = new TestClient(server.port());
        TestClient third = new TestClient(server.port())) {
      authenticate(first, ada, "ada#example.com");
      authenticate(second, ada, "ada#example.com");
      JsonNode refused = third.call(ada.frame(Frames.auth(third, "ada#example.com")));
      assertError(refused, "rate_limited");
      assertTrue(refused.path("retry_after_ms").asLong() > 0, refused.toString());
      assertTrue(refused.path("message").asText().contains("ada#example.com"), refused.toString());
      // Another address is not affected.
      authenticate(third, TestIdentity.random(), "bea#example.com");
      first.close();
      long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      JsonNode answer;
      do {
        try (TestClient again = new TestClient(server.port())) {
          answer = again.call(ada.frame(Frames.auth(again, "ada#example.com")));
        }
      } while (!answer.path("type").asText().equals("ack") && System.nanoTime() < deadline);
      assertEquals("ack", answer.path("type").asText(), "a slot freed by the close: " + answer);
    }
  }

  @Test
  void closesAConnectionThatSendsNoFrameWithinTheFirstMessageDeadline() throws Exception {
    try (EsmpServer server = start(TestServers.config(data).firstMessageTimeout(Duration.ofMillis(500)));
        TestClient silent = new TestClient(server.port());
        TestClient talking = new TestClient(server.port())) {
      long start = System.nanoTime();
      TestIdentity me = TestIdentity.random();
      authenticate(talking, me, "talker#example.com");
      // Empty lines are no frame: they do not keep a connection open.
      silent.sendRaw("\n\r\n".getBytes(StandardCharsets.UTF_8));
      assertTrue(silent.closedByServer(), "closed after first_message_seconds without a frame");
      assertTrue(Duration.ofNanos(System.nanoTime() - start).toMillis() < 5_000);
      Thread.sleep(1_000);
      assertEquals("keys", talking.call(me.frame(lookup("talker#example.com"))).path("type").asText(),
          "a connection that sent a frame in time is kept");
    }
  }

  @Test
  void closesAConnectionWhoseLineDoesNotCompleteWithinTheLineDeadline() throws Exception {
    try (EsmpServer server = start(TestServers.config(data).lineTimeout(Duration.ofSeconds(1)));
        TestClient slow = new TestClient(server.port())) {
      long start = System.nanoTime();
      // Dribbles a frame a byte every 100 ms, never ending the line: each byte is progress, the line
      // is not. Writing fails soon after the server closed the connection.
      byte[] line = ("{\"type\":\"text\",\"body\":{\"text\":\"" + "a".repeat(100)).getBytes(StandardCharsets.UTF_8);
      try {
        for (int i = 0; i < line.length && System.nanoTime() - start < Duration.ofSeconds(4).toNanos(); i++) {
          slow.sendRaw(new byte[] {line[i]});
          Thread.sleep(100);
        }
      } catch (IOException closed) {
        // expected: the server closed it
      }
      assertTrue(slow.closedByServer(), "closed once the started line was older than line_seconds");
      long elapsed = Duration.ofNanos(System.nanoTime() - start).toMillis();
      assertTrue(elapsed >= 900 && elapsed < 4_000, "closed after " + elapsed + " ms, line_seconds is 1");
    }
  }

  @Test
  void closesAnIdleConnectionThatHasNotSyncedButKeepsASyncedOne() throws Exception {
    try (EsmpServer server = start(TestServers.config(data).idleUnsyncedTimeout(Duration.ofMillis(800)));
        TestClient unsynced = new TestClient(server.port());
        TestClient synced = new TestClient(server.port())) {
      TestIdentity alice = TestIdentity.random();
      TestIdentity bob = TestIdentity.random();
      authenticate(unsynced, alice, "alice#example.com");
      authenticate(synced, bob, "bob#example.com");
      assertEquals("synced", Frames.syncAll(synced, bob, 0).get(0).path("type").asText());
      assertTrue(unsynced.closedByServer(), "authenticated but not synced, and idle: closed");
      Thread.sleep(1_000);
      assertEquals("keys", synced.call(bob.frame(lookup("bob#example.com"))).path("type").asText(),
          "a synced connection waits for deliveries however long it is quiet");
    }
  }

  private static JsonObject lookup(String address) {
    return Frames.message("lookup", JsonObject.builder().put("address", address).build());
  }
}
