package org.esmp.server.plugin;

import io.netty.util.HashedWheelTimer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;
import org.esmp.api.ServerContext;
import org.esmp.api.spi.Storage;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.data.OwnerOnly;
import org.esmp.server.metrics.ServerMetrics;
import org.pf4j.DefaultPluginManager;
import org.pf4j.PluginState;
import org.pf4j.PluginWrapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads plugin jars with PF4J, one at a time: copies a jar, loads and starts its plugin, creates
 * each of its extensions once with the plugin's own {@link ServerContext}, and later stops and
 * unloads it. Whether a started plugin may join the others is not decided here ({@link Admission}).
 *
 * <p>Each plugin is loaded from a private copy of its jar, under a name used once: the plugins
 * directory can be written while the server runs, and the JDK's cache of opened jars never serves
 * an old copy of a replaced jar. The copies live in a directory of the data directory (never the
 * system's temporary directory); a copy is deleted when its plugin is unloaded, the directory on
 * {@link #close}, and the leftovers of a killed server when the loader is created.
 *
 * <p>Not thread-safe: {@link PluginHost} calls it under its lock, one change at a time.
 */
final class PluginLoader implements AutoCloseable {

  // The host's logger: every line about the plugins' comings and goings is under one name.
  private static final Logger log = LoggerFactory.getLogger(PluginHost.class);

  private final ServerConfig config;
  /** See {@link #chooseStorage}. */
  private volatile Optional<String> storage = Optional.empty();
  /** Jars not started because they provide another storage than the one chosen, with their plugin ids. */
  private final Map<Path, String> otherStorages = new ConcurrentHashMap<>();
  private final ContextExtensionFactory factory;
  /** The context of each plugin, made for it when it starts. */
  private final Function<String, ServerContext> contexts;
  private final Manager manager;
  private final Path copies;
  private final HashedWheelTimer timer;
  private final int threadsPerPlugin;
  private final ServerMetrics metrics;
  private long copiesMade;

  /**
   * @param copies where the private copies of the jars go, used by this loader alone: whatever is
   *     there is deleted here, before anything is loaded, and it is created anew, readable by the
   *     server's user only
   * @param contexts the context of a plugin by id, made when the plugin starts
   * @param metrics where each plugin's calls are counted and timed
   * @throws UncheckedIOException when the directory cannot be emptied or created
   */
  PluginLoader(ServerConfig config, Path copies, Function<String, ServerContext> contexts, ServerMetrics metrics) {
    this.config = config;
    this.metrics = metrics;
    this.threadsPerPlugin = Math.max(2, config.verifyThreads());
    this.contexts = contexts;
    this.factory = new ContextExtensionFactory();
    this.copies = copies;
    try {
      deleteLeftovers(copies);
      OwnerOnly.createDirectory(copies);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare " + copies.toAbsolutePath() + " for the plugin jars' copies: " + e, e);
    }
    this.manager = new Manager(copies, factory, apiVersion());
    // Timeouts of plugin calls: second-scale, so a 100 ms tick is precise enough.
    this.timer = new HashedWheelTimer(runnable -> {
      Thread thread = new Thread(runnable, "esmp-plugin-timeouts");
      thread.setDaemon(true);
      return thread;
    }, 100, TimeUnit.MILLISECONDS);
    // Resources read through jar: URLs (PF4J reads each plugin's extension index so) would keep
    // every loaded copy open in the JDK's jar cache long after its plugin is unloaded.
    URLConnection.setDefaultUseCaches("jar", false);
  }

  /**
   * Loads and starts the plugin of {@code jar} from a private copy, and creates its extensions;
   * logs and cleans up after any failure.
   *
   * @param atStart whether the server is starting: then a storage may take long to open, and one
   *     that fails to open stops the start
   * @return the started plugin; empty when it did not load or start
   * @throws IllegalStateException when {@code atStart} and a storage failed to open
   */
  Optional<RunningPlugin> load(Path jar, boolean atStart) {
    String name = jar.getFileName().toString();
    Path copy = copies.resolve(++copiesMade + "-" + name);
    try {
      OwnerOnly.copy(jar, copy);
    } catch (IOException e) {
      log.error("Plugin jar {} could not be read; skipped: {}", name, e.toString());
      deleteQuietly(copy);
      return Optional.empty();
    }
    String id;
    try {
      id = manager.loadPlugin(copy);
    } catch (RuntimeException | LinkageError e) {
      log.error("Plugin jar {} could not be loaded; skipped: {}", name, e.getMessage());
      manager.unloadCopy(copy);
      deleteQuietly(copy);
      return Optional.empty();
    }
    PluginWrapper wrapper = manager.getPlugin(id);
    if (wrapper == null || wrapper.getPluginState() != PluginState.RESOLVED) {
      log.error("Plugin {} from {} could not be loaded; skipped: {}", id, name, wrapper == null
          ? "a plugin it depends on is missing" : "it is " + wrapper.getPluginState().toString().toLowerCase()
              + " (does it require a newer server than " + manager.getSystemVersion() + "?)");
      manager.unloadCopy(copy);
      deleteQuietly(copy);
      return Optional.empty();
    }
    String version = wrapper.getDescriptor().getVersion();
    Optional<String> chosen = storage;
    if (chosen.isPresent() && !chosen.get().equals(id) && providesStorage(id, wrapper)) {
      // Not even started: a storage opens its store when created.
      log.info("Plugin {} {} from {} provides a storage, but the storage configured is {}: not started", id, version,
          name, chosen.get());
      otherStorages.put(jar, id);
      manager.unloadCopy(copy);
      deleteQuietly(copy);
      return Optional.empty();
    }
    PluginCalls calls = new PluginCalls(id, threadsPerPlugin, config.pluginTimeout(), config.pluginAnswerTimeout(), timer,
        wrapper.getPluginClassLoader(), metrics.plugin(id));
    try {
      calls.await("start", () -> manager.startPlugin(id), true);
      if (manager.getPlugin(id).getPluginState() != PluginState.STARTED) {
        throw new IllegalStateException("it did not start");
      }
      List<Class<?>> classes = manager.getExtensionClasses(id);
      // A storage opens its files in its constructor: at start that may take long on a large store.
      boolean bounded = !atStart || classes.stream().noneMatch(Storage.class::isAssignableFrom);
      return Optional.of(calls.await("creating its extensions", () -> create(id, version, copy, calls, classes), bounded));
    } catch (RuntimeException e) {
      Throwable cause = e instanceof PluginCallException && e.getCause() != null ? e.getCause() : e;
      if (cause instanceof StorageFailure failure && atStart) {
        stop(id, calls, copy);
        throw new IllegalStateException("storage plugin " + id + " failed to open: " + failure.getCause().getMessage(),
            failure.getCause());
      }
      log.error("Plugin {} {} from {} failed to start; skipped: {}", id, version, name, cause.toString(), cause);
      stop(id, calls, copy);
      return Optional.empty();
    }
  }

  /**
   * The storage plugin to run: a plugin of another id that provides a storage is not started. Empty:
   * any (the only one installed). Set before the plugins are loaded at start.
   */
  void chooseStorage(Optional<String> pluginId) {
    storage = pluginId;
  }

  /** The plugin id of {@code jar} when it was not started for providing another storage than the one chosen. */
  Optional<String> otherStorage(Path jar) {
    return Optional.ofNullable(otherStorages.get(jar));
  }

  /**
   * Whether the loaded, not yet started plugin {@code id} has an extension that is a {@link
   * Storage}: read from its extension index, its classes loaded but not initialized.
   */
  private boolean providesStorage(String id, PluginWrapper wrapper) {
    for (String name : manager.getExtensionClassNames(id)) {
      try {
        if (Storage.class.isAssignableFrom(Class.forName(name, false, wrapper.getPluginClassLoader()))) {
          return true;
        }
      } catch (ClassNotFoundException | LinkageError e) {
        // a class that cannot load is reported when the plugin starts
      }
    }
    return false;
  }

  /** Creates each extension of a started plugin and reads what it declares; on the plugin's thread. */
  private RunningPlugin create(String id, String version, Path copy, PluginCalls calls, List<Class<?>> classes) {
    List<Object> extensions = new ArrayList<>();
    ServerContext context = contexts.apply(id);
    for (Class<?> type : classes) {
      try {
        extensions.add(factory.create(type, context));
      } catch (RuntimeException | LinkageError e) {
        if (Storage.class.isAssignableFrom(type)) {
          throw new StorageFailure(e.getCause() != null ? e.getCause() : e);
        }
        throw e;
      }
    }
    return RunningPlugin.of(id, version, copy, calls, extensions);
  }

  /**
   * Waits for the plugin's calls in flight (at most the plugin answer timeout), then closes its
   * extensions that are {@link AutoCloseable} but the storage, stops it (PF4J's
   * {@code Plugin.stop}), closes its class loader and deletes its copy.
   */
  void stop(RunningPlugin running) {
    running.calls().drain();
    for (Object extension : running.extensions()) {
      // The storage is closed by the server, after everything that writes to it has stopped.
      if (extension instanceof AutoCloseable closeable && !(extension instanceof Storage)) {
        try {
          running.calls().await("close of " + extension.getClass().getName(), () -> {
            closeable.close();
            return Boolean.TRUE;
          }, true);
        } catch (PluginCallException e) {
          log.warn("Plugin {}: closing an extension failed", running.id(), e.getCause() != null ? e.getCause() : e);
        }
      }
    }
    stop(running.id(), running.calls(), running.copy());
  }

  private void stop(String id, PluginCalls calls, Path copy) {
    calls.drain();
    try {
      calls.await("stop", () -> manager.unloadPlugin(id), true);
    } catch (PluginCallException e) {
      log.warn("Plugin {}: stopping it failed", id, e.getCause() != null ? e.getCause() : e);
    }
    calls.shutdown();
    deleteQuietly(copy);
  }

  /** Stops the timer of plugin calls and deletes the copies' directory; called once every plugin is stopped. */
  @Override
  public void close() {
    timer.stop();
    deleteTree(copies);
  }

  /** The API's version, without qualifier: plugins' {@code Plugin-Requires} is checked against it. */
  private static String apiVersion() {
    String version = ServerContext.class.getPackage().getImplementationVersion();
    if (version == null) {
      return "0.0.0"; // the API's classes are not in a jar (a test run): PF4J then checks nothing
    }
    int qualifier = version.indexOf('-');
    return qualifier < 0 ? version : version.substring(0, qualifier);
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      log.debug("Could not delete {}", file, e);
    }
  }

  /** Deletes the copies a server that was killed left behind (a clean stop deletes its own). */
  private static void deleteLeftovers(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    List<Path> files;
    try (Stream<Path> walk = Files.walk(dir)) {
      files = walk.sorted(Comparator.reverseOrder()).toList();
    }
    for (Path file : files) {
      Files.delete(file);
    }
    if (files.size() > 1) {
      log.info("Deleted {} plugin jar copies left in {} by an earlier run", files.size() - 1, dir.toAbsolutePath());
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(PluginLoader::deleteQuietly);
    } catch (IOException e) {
      log.debug("Could not delete {}", dir, e);
    }
  }

  /** A storage that failed to open in its constructor: the cause. */
  private static final class StorageFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    StorageFailure(Throwable cause) {
      super(cause);
    }
  }

  /** PF4J's manager, with extensions created by {@link ContextExtensionFactory}. Not thread-safe. */
  private static final class Manager extends DefaultPluginManager {
    Manager(Path copies, ContextExtensionFactory factory, String systemVersion) {
      super(copies);
      // initialize() ran in the super constructor before the factory was at hand: replace its own.
      this.extensionFactory = factory;
      // A plugin whose dependency is missing is left out rather than failing every later load.
      setResolveRecoveryStrategy(ResolveRecoveryStrategy.IGNORE_PLUGIN_AND_CONTINUE);
      setSystemVersion(systemVersion);
    }

    /** Unloads whatever was loaded from {@code copy}, after a failed load. */
    void unloadCopy(Path copy) {
      String id = idForPath(copy);
      if (id != null) {
        try {
          unloadPlugin(id);
        } catch (RuntimeException e) {
          log.warn("Could not unload the plugin of {}", copy.getFileName(), e);
        }
      }
    }
  }
}
