package org.esmp.server.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.mock;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import org.esmp.api.Mailboxes;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.data.OwnerOnly;
import org.esmp.json.ServerJsonCodec;
import org.esmp.server.metrics.ServerMetrics;
import org.esmp.server.testing.TestServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PluginCopiesTest {

  @TempDir Path data;

  @Test
  void deletesTheCopiesAnEarlierRunLeftBeforeLoadingAndItsDirectoryOnClose() throws Exception {
    Path copies = data.resolve("plugin-copies");
    Files.createDirectories(copies.resolve("nested"));
    Files.writeString(copies.resolve("1-storage-mapdb.jar"), "left by a killed server");
    Files.writeString(copies.resolve("nested/2-old.jar"), "left by an older layout");
    ServerConfig config = ServerConfig.builder().dataDir(data).pluginsDir(data.resolve("no-plugins")).build();
    PluginHost host = new PluginHost(config, copies, Set.of("auth"), TestServers.noCommits(), mock(Mailboxes.class), new ServerJsonCodec(),
        ServerMetrics.off());
    try {
      assertTrue(Files.isDirectory(copies));
      try (var left = Files.list(copies)) {
        assertEquals(0, left.count(), "the leftovers are gone");
      }
      if (OwnerOnly.posix(copies)) {
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(copies)));
      }
    } finally {
      host.close();
    }
    assertFalse(Files.exists(copies), "a clean stop deletes the directory");
  }
}
