package org.esmp.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;
import org.esmp.server.config.ConfigException;
import org.esmp.server.testing.TestServers;
import org.esmp.server.testing.TestUser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code storage} chooses the storage plugin that runs, and {@code plugin_settings} (or the database
 * flags) reach a plugin as its {@code ServerContext.settings()}. Each test chooses its storage
 * itself ({@link TestServers#storageUnchosen}), so they run the same on the tests' PostgreSQL.
 */
class StorageChoiceIT {

  @TempDir Path dir;

  @Test
  void aChosenStorageThatIsNotInstalledStopsTheStartNamingIt() throws Exception {
    ConfigException refused = assertThrows(ConfigException.class,
        () -> EsmpServer.start(TestServers.storageUnchosen(dir.resolve("data")).storage("nosuch").build()));
    assertTrue(refused.getMessage().contains("storage nosuch is configured, but no plugin storage-nosuch started"),
        refused.getMessage());
    assertFalse(Files.exists(dir.resolve("data/storage-mapdb")), "the installed storage was not even started");
  }

  @Test
  void theDatabaseStorageWithoutItsUrlStopsTheStartNamingTheSetting() {
    IllegalStateException refused = assertThrows(IllegalStateException.class,
        () -> EsmpServer.start(TestServers.storageUnchosen(dir.resolve("data")).storage("postgres").build()));
    assertTrue(refused.getMessage().contains("storage-postgres") && refused.getMessage().contains("jdbc_url"),
        refused.getMessage());
    assertFalse(Files.exists(dir.resolve("data/storage-mapdb")));
  }

  @Test
  void withBothInstalledAndNoneChosenTheDiskStorageRuns() throws Exception {
    try (EsmpServer server = EsmpServer.start(TestServers.storageUnchosen(dir.resolve("data")).build())) {
      assertTrue(Files.isDirectory(dir.resolve("data/storage-mapdb")));
      TestUser alice = TestUser.register(server.port(), "alice");
      assertEquals("keys", alice.send(JsonObject.builder().put("type", "lookup").put("to", JsonArray.of())
          .put("body", JsonObject.builder().put("address", alice.address()).build()).build()).path("type").asText());
    }
  }

  @Test
  void theChosenStorageRunsAndAPluginGetsItsSettings() throws Exception {
    try (EsmpServer server = EsmpServer.start(TestServers.storageUnchosen(dir.resolve("data")).storage("mapdb")
        .pluginSetting("test-echo", "greeting", "hello").pluginSetting("other-plugin", "secret", "not yours").build())) {
      assertTrue(Files.isDirectory(dir.resolve("data/storage-mapdb")));
      TestUser alice = TestUser.register(server.port(), "alice");
      JsonNode probe = alice.send(JsonObject.builder().put("type", "probe").put("to", JsonArray.of())
          .put("body", JsonObject.empty()).build());
      assertEquals("{\"greeting\":\"hello\"}", probe.path("settings").toString(), probe.toString());
    }
  }
}
