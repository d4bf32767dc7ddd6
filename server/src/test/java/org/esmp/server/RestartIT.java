package org.esmp.server;

import static org.esmp.server.testing.Frames.assertAck;
import static org.esmp.server.testing.Frames.authenticate;
import static org.esmp.server.testing.Frames.syncAll;
import static org.esmp.server.testing.Frames.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.esmp.server.testing.TestClient;
import org.esmp.server.testing.TestIdentity;
import org.esmp.server.testing.TestServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stop the server and start it again on the same data directory: nothing is forgotten. */
class RestartIT {

  @TempDir Path data;

  @Test
  void refusesToStartFromADamagedStore() throws Exception {
    try (EsmpServer server = TestServers.start(data); TestClient a = new TestClient(server.port())) {
      authenticate(a, TestIdentity.random(), "alice#example.com");
    }
    Path store;
    try (var files = Files.walk(data.resolve("storage-mapdb"))) {
      store = files.filter(Files::isRegularFile).filter(f -> f.getFileName().toString().endsWith(".db"))
          .findFirst().orElseThrow();
    }
    try (FileChannel channel = FileChannel.open(store, StandardOpenOption.WRITE)) {
      channel.truncate(channel.size() / 2);
    }
    Exception refused = assertThrows(Exception.class, () -> TestServers.start(data).close());
    assertTrue(refused.getMessage().contains("storage-mapdb") && refused.getMessage().contains(store.getFileName().toString()),
        refused.getMessage());
  }

  @Test
  void keepsIdentitiesMailboxesCursorsAndDuplicatesAcrossARestart() throws Exception {
    TestIdentity alice = TestIdentity.random();
    TestIdentity bob = TestIdentity.random();
    String resend;
    String firstId;
    try (EsmpServer server = TestServers.start(data);
        TestClient a = new TestClient(server.port());
        TestClient b = new TestClient(server.port())) {
      assertTrue(authenticate(a, alice, "alice#example.com").path("registered").asBoolean());
      assertTrue(authenticate(b, bob, "bob#example.com").path("registered").asBoolean());
      resend = alice.frame(text("before the restart", "bob#example.com"));
      firstId = assertAck(a.call(resend)).path("re").asText();
      assertAck(a.call(alice.frame(text("second", "bob#example.com"))));
    }

    try (EsmpServer server = TestServers.start(data);
        TestClient a = new TestClient(server.port());
        TestClient b = new TestClient(server.port())) {
      assertFalse(authenticate(a, alice, "alice#example.com").path("registered").asBoolean(), "identity kept");
      assertFalse(authenticate(b, bob, "bob#example.com").path("registered").asBoolean());

      JsonNode duplicate = assertAck(a.call(resend));
      assertTrue(duplicate.path("duplicate").asBoolean(), "the accepted id is remembered");
      assertEquals(firstId, duplicate.path("re").asText());

      assertAck(a.call(alice.frame(text("after the restart", "bob#example.com"))));
      List<JsonNode> synced = syncAll(b, bob, 0);
      List<JsonNode> frames = synced.subList(0, synced.size() - 1);
      JsonNode frame = synced.get(synced.size() - 1);
      assertEquals("synced", frame.path("type").asText());
      assertEquals(List.of(1L, 2L, 3L), frames.stream().map(f -> f.path("cursor").asLong()).toList(),
          "cursors continue where they were");
      assertEquals(firstId, frames.get(0).path("id").asText());
      assertEquals("after the restart", frames.get(2).path("message").path("body").path("text").asText());
      assertEquals(3, frame.path("cursor").asLong());
    }
  }
}
