package org.esmp.server.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.mock;

import java.lang.management.ManagementFactory;
import java.lang.ref.WeakReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.esmp.api.ErrorCode;
import org.esmp.api.Mailboxes;
import org.esmp.api.RejectedException;
import org.esmp.api.json.JsonObject;
import org.esmp.json.ServerJsonCodec;
import org.esmp.server.metrics.ServerMetrics;
import org.esmp.server.testing.ExamplePlugins;
import org.esmp.server.testing.TestServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reload does not leak: the same plugin jar loaded, used and unloaded 50 times leaves none of its
 * 50 class loaders reachable, as many classes loaded as before, and Metaspace roughly where it was.
 *
 * <p>The reaction plugin is one small class, a few KiB of Metaspace per cycle (50 leaked loaders
 * measured +165 KiB more than none): the class loaders and the class count are the sharp checks;
 * the Metaspace bound catches a leak of anything larger per load.
 */
class PluginReloadLeakIT {

  private static final int CYCLES = 50;
  /** Cycles run first, so that what is loaded once for good (JDK, PF4J, JIT) is loaded. */
  private static final int WARM_UP = 20;
  /**
   * Generous. Measured: +400 KiB over 50 cycles of ~28 MiB used, with no plugin class loader left;
   * {@code jcmd VM.metaspace show-loaders} puts that growth in the boot and app loaders (the JIT's
   * profile of JDK and server methods warming up), none in a plugin's.
   */
  private static final long METASPACE_SLACK = 1024 * 1024;
  /** A leak keeps at least one class per cycle loaded; a few come and go (lambda forms). */
  private static final long CLASSES_SLACK = CYCLES / 2;

  @TempDir Path plugins;
  @TempDir Path data;
  @TempDir Path build;

  @Test
  void fiftyLoadUnloadCyclesLeaveNoClassLoaderReachableAndMetaspaceFlat() throws Exception {
    Path jar = ExamplePlugins.reaction(build.resolve("reaction.jar"));
    PluginHost host = new PluginHost(TestServers.storageUnchosen(data).pluginsDir(plugins).build(), data.resolve("plugin-copies"),
        Set.of("auth"), TestServers.noCommits(), mock(Mailboxes.class), new ServerJsonCodec(),
        ServerMetrics.off());
    host.start();
    Map<Path, PluginJars.Fingerprint> settling = new HashMap<>();
    Path deployed = plugins.resolve("reaction.jar");
    List<WeakReference<ClassLoader>> loaders = new ArrayList<>();

    for (int i = 0; i < WARM_UP; i++) {
      cycle(host, jar, deployed, settling);
    }
    long before = metaspaceAfterGc();
    long classesBefore = ManagementFactory.getClassLoadingMXBean().getLoadedClassCount();
    for (int i = 0; i < CYCLES; i++) {
      loaders.add(cycle(host, jar, deployed, settling));
    }
    for (int round = 0; round < 50 && loaders.stream().anyMatch(ref -> ref.get() != null); round++) {
      System.gc();
      Thread.sleep(100);
    }
    long reachable = loaders.stream().filter(ref -> ref.get() != null).count();
    long after = metaspaceAfterGc();
    long classesAfter = ManagementFactory.getClassLoadingMXBean().getLoadedClassCount();
    host.close();
    System.out.printf("PluginReloadLeakIT: %d cycles; Metaspace used %d KiB before, %d KiB after; "
        + "%d classes loaded before, %d after; %d plugin class loaders reachable%n",
        CYCLES, before / 1024, after / 1024, classesBefore, classesAfter, reachable);
    assertEquals(0, reachable, "plugin class loaders still reachable after " + CYCLES + " unloads");
    assertTrue(classesAfter - classesBefore < CLASSES_SLACK,
        (classesAfter - classesBefore) + " more classes loaded after " + CYCLES + " cycles");
    assertTrue(after - before < METASPACE_SLACK,
        "Metaspace grew by " + (after - before) / 1024 + " KiB over " + CYCLES + " cycles");
  }

  /** Deploys the jar, checks a body through the plugin, removes the jar; the plugin's class loader. */
  private static WeakReference<ClassLoader> cycle(PluginHost host, Path jar, Path deployed,
      Map<Path, PluginJars.Fingerprint> settling) throws Exception {
    Files.copy(jar, deployed);
    PluginWatcher.look(host, deployed.getParent(), settling);
    PluginWatcher.look(host, deployed.getParent(), settling);
    PluginRegistry.Content reaction = (PluginRegistry.Content) host.registry().types().get("reaction");
    WeakReference<ClassLoader> loader = new WeakReference<>(reaction.contentType().getClass().getClassLoader());
    assertTrue(reaction.calls().run("validate", () -> reaction.contentType().validate(
        JsonObject.builder().put("emoji", "👍").put("target", "a".repeat(64)).build())).result().get());
    ExecutionException refused = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
        () -> reaction.calls().run("validate", () -> reaction.contentType().validate(JsonObject.empty())).result().get());
    assertEquals(ErrorCode.BAD_FIELD, assertInstanceOf(RejectedException.class, refused.getCause()).code());
    Files.delete(deployed);
    PluginWatcher.look(host, deployed.getParent(), settling);
    assertTrue(host.registry().types().isEmpty());
    return loader;
  }

  private static long metaspaceAfterGc() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
    }
    return ManagementFactory.getMemoryPoolMXBeans().stream()
        .filter(pool -> pool.getName().equals("Metaspace"))
        .mapToLong(pool -> pool.getUsage().getUsed())
        .findFirst().orElseThrow();
  }
}
