package org.esmp.server.testing;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
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
    String address = name + NAMES.incrementAndGet() + "#example.com";
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
}
