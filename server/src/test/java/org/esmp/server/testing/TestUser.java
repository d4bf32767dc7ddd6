package org.esmp.server.testing;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.esmp.api.json.JsonObject;

/**
 * A registered user: an address, its key, and a connection authenticated as it.
 *
 * @param address the address
 * @param key its key
 * @param client a connection authenticated as {@code address}
 */
public record TestUser(String address, TestIdentity key, TestClient client) {

  private static final AtomicInteger NAMES = new AtomicInteger();

  /** Registers a fresh {@code nameN#example.com} with a new key on a new connection to {@code port}. */
  public static TestUser register(int port, String name) throws Exception {
    return register(port, name, "example.com");
  }

  /** Registers a fresh {@code nameN#domain} with a new key on a new connection to {@code port}, which serves {@code domain}. */
  public static TestUser register(int port, String name, String domain) throws Exception {
    String address = name + NAMES.incrementAndGet() + "#" + domain;
    TestIdentity key = TestIdentity.random();
    TestClient client = new TestClient(port);
    assertTrue(Frames.authenticate(client, key, address).path("registered").asBoolean(), address + " is new");
    return new TestUser(address, key, client);
  }

  /** The same user on a new connection, authenticated. */
  public TestUser reconnect(int port) throws Exception {
    TestClient again = new TestClient(port);
    assertFalse(Frames.authenticate(again, key, address).path("registered").asBoolean(), address + " exists");
    return new TestUser(address, key, again);
  }

  /** Signs {@code unsigned}, sends it and reads the answer. */
  public JsonNode send(JsonObject unsigned) throws Exception {
    return client.call(key.frame(unsigned));
  }

  /** Syncs from {@code since}: the {@code deliver} frames, then the {@code synced} answer last. */
  public List<JsonNode> syncAll(long since) throws Exception {
    return Frames.syncAll(client, key, since);
  }

  /**
   * Sends {@code frames} (signed) pipelined, one thread writing while this one reads, and returns
   * the answers in order: a flood as a client that reads its answers sends it.
   */
  public List<JsonNode> sendPipelined(List<String> frames) throws Exception {
    ExecutorService writer = Executors.newSingleThreadExecutor();
    try {
      Future<?> written = writer.submit(() -> {
        for (String frame : frames) {
          client.send(frame);
        }
        return null;
      });
      List<JsonNode> answers = new ArrayList<>(frames.size());
      for (int i = 0; i < frames.size(); i++) {
        answers.add(client.read());
      }
      written.get();
      return answers;
    } finally {
      writer.shutdownNow();
    }
  }
}
