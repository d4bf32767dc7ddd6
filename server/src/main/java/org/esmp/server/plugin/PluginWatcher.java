package org.esmp.server.plugin;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hot deploy: looks at the plugins directory every interval and tells the {@link PluginHost} which
 * jars were added, replaced or removed. (PF4J does not watch directories.) Polling rather than a
 * {@code WatchService}: it behaves the same on every file system, network mounts included.
 *
 * <p>A new or changed jar is applied once it has looked the same (size, time, file identity) on two
 * looks in a row, so a jar still being copied is not loaded half-written: a jar dropped in runs
 * within one to two intervals. Copying it in under a name starting with a dot and renaming it when
 * complete is safest. A jar that fails to load is tried again when it changes.
 */
public final class PluginWatcher implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(PluginWatcher.class);

  private final PluginHost host;
  private final Path dir;
  private final ScheduledExecutorService thread;
  /** Jars seen changed on the last look, not yet applied. Touched by the watcher thread only. */
  private final Map<Path, PluginJars.Fingerprint> settling = new HashMap<>();

  private PluginWatcher(PluginHost host, Path dir) {
    this.host = host;
    this.dir = dir;
    this.thread = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread watcher = new Thread(runnable, "esmp-plugin-watcher");
      watcher.setDaemon(true);
      return watcher;
    });
  }

  /** Starts watching {@code dir}, which {@code host} has loaded, every {@code interval}. */
  public static PluginWatcher start(PluginHost host, Path dir, Duration interval) {
    PluginWatcher watcher = new PluginWatcher(host, dir);
    watcher.thread.scheduleWithFixedDelay(watcher::lookSafely, interval.toMillis(), interval.toMillis(),
        TimeUnit.MILLISECONDS);
    log.info("Watching {} for plugin jars added, replaced or removed", dir.toAbsolutePath());
    return watcher;
  }

  private void lookSafely() {
    try {
      look(host, dir, settling);
    } catch (IOException e) {
      log.warn("Could not list the plugins directory {}: {}", dir.toAbsolutePath(), e.toString());
    } catch (RuntimeException e) {
      log.error("Applying a change of the plugins directory failed", e);
    }
  }

  /**
   * One look at {@code dir}: removes the plugins of jars that are gone, applies jars that are new or
   * changed and looked the same last time, and remembers the others in {@code settling}.
   */
  static void look(PluginHost host, Path dir, Map<Path, PluginJars.Fingerprint> settling) throws IOException {
    Map<Path, PluginJars.Fingerprint> now = PluginJars.list(dir);
    Map<Path, PluginJars.Fingerprint> applied = host.applied();
    for (Path jar : applied.keySet()) {
      if (!now.containsKey(jar)) {
        host.remove(jar);
      }
    }
    settling.keySet().retainAll(now.keySet());
    for (Map.Entry<Path, PluginJars.Fingerprint> jar : now.entrySet()) {
      PluginJars.Fingerprint fingerprint = jar.getValue();
      if (fingerprint.equals(applied.get(jar.getKey()))) {
        settling.remove(jar.getKey());
      } else if (fingerprint.equals(settling.get(jar.getKey()))) {
        settling.remove(jar.getKey());
        host.apply(jar.getKey(), fingerprint);
      } else {
        settling.put(jar.getKey(), fingerprint);
      }
    }
  }

  /** Stops watching; a change being applied finishes first. */
  @Override
  public void close() {
    thread.shutdown();
    try {
      if (!thread.awaitTermination(30, TimeUnit.SECONDS)) {
        thread.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
