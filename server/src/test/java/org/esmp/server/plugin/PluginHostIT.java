package org.esmp.server.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.mock;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.esmp.api.Mailboxes;
import org.esmp.api.spi.Storage;
import org.esmp.json.ServerJsonCodec;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.metrics.ServerMetrics;
import org.esmp.server.testing.ClusterDatabase;
import org.esmp.server.testing.ExamplePlugins;
import org.esmp.server.testing.TestServers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The plugin host and its watcher on a real plugins directory, with real PF4J loading: one look at
 * a time ({@link PluginWatcher#look}) instead of the watcher's thread, so each step is exact.
 */
class PluginHostIT {

  @TempDir Path plugins;
  @TempDir Path data;
  @TempDir Path build;

  private final Map<Path, PluginJars.Fingerprint> settling = new HashMap<>();
  private PluginHost host;

  /** A host on {@link #plugins}, with no storage chosen (none is installed). */
  private PluginHost start() {
    return start(TestServers.storageUnchosen(data));
  }

  private PluginHost start(ServerConfig.Builder config) {
    host = new PluginHost(config.pluginsDir(plugins).build(), data.resolve("plugin-copies"),
        Set.of("auth"), TestServers.noCommits(), mock(Mailboxes.class), new ServerJsonCodec(),
        ServerMetrics.off());
    host.start();
    return host;
  }

  @AfterEach
  void close() {
    if (host != null) {
      host.registry().storage().ifPresent(owned -> owned.extension().close());
      host.close();
    }
  }

  private void look() throws Exception {
    PluginWatcher.look(host, plugins, settling);
  }

  private Path example(String id, String version) throws Exception {
    return ExamplePlugins.build(ExamplePlugins.source("reaction-plugin"), build.resolve(id + "-" + version + ".jar"),
        id, version);
  }

  @Test
  void loadsAJarOnceItStoppedChangingReloadsItWhenReplacedAndUnloadsItWhenRemoved() throws Exception {
    start();
    assertTrue(host.versions().isEmpty());
    Path jar = plugins.resolve("reaction.jar");
    Files.copy(example("reaction", "1.0.0"), jar);

    look();
    assertFalse(host.registry().types().containsKey("reaction"), "seen once: it may still be being written");
    look();
    assertEquals(Map.of("reaction", "1.0.0"), host.versions());
    PluginRegistry.Declared first = host.registry().types().get("reaction");
    assertInstanceOf(PluginRegistry.Content.class, first);

    Files.copy(example("reaction", "1.0.1"), jar, StandardCopyOption.REPLACE_EXISTING);
    look();
    look();
    assertEquals(Map.of("reaction", "1.0.1"), host.versions());
    PluginRegistry.Declared second = host.registry().types().get("reaction");
    assertNotSame(((PluginRegistry.Content) first).contentType().getClass(),
        ((PluginRegistry.Content) second).contentType().getClass(), "the new jar's class, from a new class loader");

    Files.delete(jar);
    look();
    assertTrue(host.versions().isEmpty());
    assertFalse(host.registry().types().containsKey("reaction"));
  }

  @Test
  void refusesASecondPluginDeclaringATypeAlreadyDeclared() throws Exception {
    start();
    Files.copy(example("reaction", "1.0.0"), plugins.resolve("a.jar"));
    look();
    look();
    Files.copy(example("reaction-copy", "1.0.0"), plugins.resolve("b.jar"));
    look();
    look();
    assertEquals(Map.of("reaction", "1.0.0"), host.versions(), "the second is refused as a whole");
    assertEquals("reaction", host.registry().types().get("reaction").pluginId());

    // Once the first is gone, the second is taken up when its jar changes.
    Files.delete(plugins.resolve("a.jar"));
    Files.setLastModifiedTime(plugins.resolve("b.jar"), FileTime.fromMillis(System.currentTimeMillis() + 5_000));
    look();
    look();
    assertEquals(Map.of("reaction-copy", "1.0.0"), host.versions());
  }

  @Test
  void aJarThatIsNotAPluginIsSkippedAndTriedAgainWhenItChanges() throws Exception {
    Path jar = plugins.resolve("reaction.jar");
    Files.writeString(jar, "half a jar");
    start();
    assertTrue(host.versions().isEmpty());
    Files.copy(example("reaction", "1.0.0"), jar, StandardCopyOption.REPLACE_EXISTING);
    look();
    look();
    assertEquals(Map.of("reaction", "1.0.0"), host.versions());
  }

  /** With the tests' storage: storage-mapdb, or storage-postgres on the tests' PostgreSQL. */
  @Test
  void neverReloadsNorUnloadsTheStorage() throws Exception {
    Path jar = plugins.resolve(ClusterDatabase.storageJar());
    Files.copy(TestServers.pluginsDir().resolve(ClusterDatabase.storageJar()), jar);
    start(TestServers.config(data));
    Storage storage = host.storage();

    Files.setLastModifiedTime(jar, FileTime.fromMillis(System.currentTimeMillis() + 5_000));
    look();
    look();
    assertSame(storage, host.storage(), "a changed storage jar is not reloaded");
    Files.delete(jar);
    look();
    assertSame(storage, host.storage(), "a removed storage jar keeps running");
    assertEquals(Set.of(ClusterDatabase.storagePlugin()), host.versions().keySet());

    // Another copy of the storage plugin is refused while the storage runs.
    Files.copy(TestServers.pluginsDir().resolve(ClusterDatabase.storageJar()), plugins.resolve("other-storage.jar"));
    look();
    look();
    assertSame(storage, host.storage());
    assertEquals(Set.of(ClusterDatabase.storagePlugin()), host.versions().keySet());
  }
}
