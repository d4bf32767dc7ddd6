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
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.testing.ClusterDatabase;
import org.esmp.server.testing.TestClient;
import org.esmp.server.testing.TestIdentity;
import org.esmp.server.testing.TestServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/** Stop the server and start it again on the same data directory: nothing is forgotten. */
class RestartIT {

  @TempDir Path data;

  @Test
  @DisabledIfSystemProperty(named = "esmp.it.storage", matches = "postgres",
      disabledReason = "damages storage-mapdb's store file; storage-postgres keeps no file")
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

  /**
   * The counterpart of a damaged store on storage-postgres (in every build, whatever the tests'
   * storage): a server restarted on a database that is gone refuses to start, naming the storage and
   * the database, rather than serve from nothing.
   */
  @Test
  void refusesToStartOnPostgresqlWhenItsDatabaseIsGone() throws Exception {
    try (EsmpServer server = EsmpServer.start(ClusterDatabase.onPostgres(TestServers.config(data), data).build());
        TestClient a = new TestClient(server.port())) {
      authenticate(a, TestIdentity.random(), "alice#example.com");
    }
    ServerConfig sameDatabase = ClusterDatabase.onPostgres(TestServers.config(data), data).build();
    ClusterDatabase.dropDatabase(data);
    Exception refused = assertThrows(Exception.class, () -> EsmpServer.start(sameDatabase).close());
    assertTrue(refused.getMessage().contains("storage-postgres") && refused.getMessage().contains("cannot open the database"),
        refused.getMessage());
  }

  /**
   * A crash copy of a running server's storage (its journal holds every commit since the start),
   * with one byte changed in the middle of the journal: the server refuses to start, naming the
   * journal and the offset of the damaged record, rather than drop or replay past it.
   */
  @Test
  @DisabledIfSystemProperty(named = "esmp.it.storage", matches = "postgres",
      disabledReason = "damages storage-mapdb's journal; storage-postgres keeps no file")
  void refusesToStartFromAJournalDamagedBeforeItsEnd(@TempDir Path crashCopy) throws Exception {
    TestIdentity alice = TestIdentity.random();
    Path storage = crashCopy.resolve("storage-mapdb");
    Files.createDirectories(storage);
    try (EsmpServer server = TestServers.start(data);
        TestClient a = new TestClient(server.port());
        TestClient b = new TestClient(server.port())) {
      authenticate(a, alice, "alice#example.com");
      authenticate(b, TestIdentity.random(), "bob#example.com");
      for (int i = 0; i < 20; i++) {
        assertAck(a.call(alice.frame(text("message " + i, "bob#example.com"))));
      }
      try (var files = Files.list(data.resolve("storage-mapdb"))) {
        for (Path file : files.toList()) {
          Files.copy(file, storage.resolve(file.getFileName()));
        }
      }
    }
    Path journal;
    try (var files = Files.list(storage)) {
      journal = files.filter(f -> f.getFileName().toString().contains(".journal.")).findFirst().orElseThrow();
    }
    // Records: magic (4 bytes), body length (4), sequence number (8), body, CRC32C (4).
    List<Long> records = new java.util.ArrayList<>();
    long damaged;
    try (FileChannel channel = FileChannel.open(journal, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer header = ByteBuffer.allocate(8);
      for (long at = 0; at + 8 <= channel.size(); at += 16 + header.getInt(4) + 4) {
        header.clear();
        channel.read(header, at);
        records.add(at);
      }
      assertTrue(records.size() > 10, "a record per commit: " + records);
      damaged = records.get(records.size() / 2);
      ByteBuffer one = ByteBuffer.allocate(1);
      channel.read(one, damaged + 20);
      one.put(0, (byte) ~one.get(0)).rewind();
      channel.write(one, damaged + 20);
    }
    Exception refused = assertThrows(Exception.class, () -> TestServers.start(crashCopy).close());
    String message = refused.getMessage();
    Matcher at = Pattern.compile("is corrupt at byte (\\d+)").matcher(message);
    assertTrue(message.contains(journal.getFileName().toString()) && at.find(), message);
    assertEquals(damaged, Long.parseLong(at.group(1)), "the offset of the damaged record: " + message);
  }

  @Test
  void keepsIdentitiesMailboxesCursorsAndDuplicatesAcrossARestart() throws Exception {
    TestIdentity alice = TestIdentity.random();
    TestIdentity bob = TestIdentity.random();
    String resend;
    String firstId;
    String serverKey;
    try (EsmpServer server = TestServers.start(data);
        TestClient a = new TestClient(server.port());
        TestClient b = new TestClient(server.port())) {
      serverKey = a.hello().path("server_key").asText();
      assertTrue(authenticate(a, alice, "alice#example.com").path("registered").asBoolean());
      assertTrue(authenticate(b, bob, "bob#example.com").path("registered").asBoolean());
      resend = alice.frame(text("before the restart", "bob#example.com"));
      firstId = assertAck(a.call(resend)).path("re").asText();
      assertAck(a.call(alice.frame(text("second", "bob#example.com"))));
    }

    try (EsmpServer server = TestServers.start(data);
        TestClient a = new TestClient(server.port());
        TestClient b = new TestClient(server.port())) {
      assertEquals(serverKey, a.hello().path("server_key").asText(), "the server's own key kept: peers know it by it");
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
