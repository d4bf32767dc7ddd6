package org.esmp.server.plugin;

import io.netty.util.HashedWheelTimer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;
import org.esmp.api.JsonCodec;
import org.esmp.api.Mailboxes;
import org.esmp.api.ServerContext;
import org.esmp.api.spi.Storage;
import org.esmp.server.store.Commits;
import org.esmp.server.store.PluginStore;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.data.OwnerOnly;
import org.pf4j.DefaultPluginManager;
import org.pf4j.PluginState;
import org.pf4j.PluginWrapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the plugins of the plugins directory with PF4J: loads each jar, starts it, creates each of
 * its extensions once, and indexes the running plugins' extensions in an immutable
 * {@link PluginRegistry} that is replaced as a whole whenever the set changes. At start every jar
 * is loaded; afterwards {@link PluginWatcher} calls {@link #apply} and {@link #remove} as jars are
 * added, replaced and removed.
 *
 * <p>A plugin that fails to load or start, or whose extensions cannot be created, is logged and
 * skipped. So is a plugin that declares a type another running plugin declares, a type the server
 * answers itself, or a malformed type name: the plugin is refused as a whole, with one log line.
 * One bad plugin never keeps the server from serving. The exception is the storage: one that fails
 * to open stops the start, since serving without the store, or from a damaged one, would lose data.
 *
 * <p><b>Storage plugins are not hot-deployed</b>: the server's storage stays up while it runs. A
 * storage plugin's jar changed or removed while the server runs is logged and ignored until the
 * next start, and a new jar that provides a storage is refused until then.
 *
 * <p>Each plugin is loaded from a private copy of its jar, under a name used once: the plugins
 * directory can be written while the server runs, and the JDK's cache of opened jars never serves
 * an old copy of a replaced jar. The copies live in a directory of the data directory (never the
 * system's temporary directory); a copy is deleted when its plugin is unloaded, the directory on
 * {@link #close}, and the leftovers of a killed server at the next start. Unloading first takes the plugin out of the registry (new messages
 * no longer see it), then waits for its calls in flight (at most the plugin answer timeout), then
 * closes its extensions that are {@link AutoCloseable}, stops it (PF4J's {@code Plugin.stop}) and
 * closes its class loader.
 *
 * <p>Thread-safe: changes are made one at a time, on the thread that calls them; {@link #registry}
 * may be read from any thread at any time.
 */
public final class PluginHost implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(PluginHost.class);

  private final ServerConfig config;
  private final Admission admission;
  private final ContextExtensionFactory factory;
  /** The context of each plugin, made for it when it starts. */
  private final Function<String, ServerContext> contexts;
  private final Manager manager;
  private final Path copies;
  private final HashedWheelTimer timer;
  private final int threadsPerPlugin;
  private final Object lock = new Object();
  /** Each jar of the plugins directory as last applied, in load order. Guarded by lock. */
  private final Map<Path, Deployed> deployed = new LinkedHashMap<>();
  private long copiesMade; // guarded by lock
  private volatile PluginRegistry registry = PluginRegistry.EMPTY;

  /**
   * A jar of the plugins directory as last applied.
   *
   * @param fingerprint the jar as it was then; {@code null} once it was removed while its plugin
   *     (a storage) keeps running
   * @param running the plugin it runs; empty when it did not load or start
   */
  private record Deployed(PluginJars.Fingerprint fingerprint, Optional<RunningPlugin> running) {}

  /**
   * @param copies where the private copies of the jars go, used by this host alone (the data
   *     directory's {@link org.esmp.server.data.DataDirectory#pluginCopies()}, under its lock):
   *     whatever is there is deleted here, before anything is loaded, and it is created anew,
   *     readable by the server's user only
   * @param coreTypes types the server answers itself; a plugin cannot take them over
   * @param commits the commit path behind each plugin's store
   * @param mailboxes the mailbox service offered to plugins
   * @param json the JSON codec offered to plugins
   * @throws UncheckedIOException when the directory cannot be emptied or created
   */
  public PluginHost(ServerConfig config, Path copies, Set<String> coreTypes, Commits commits, Mailboxes mailboxes,
      JsonCodec json) {
    this.config = config;
    this.admission = new Admission(coreTypes);
    this.threadsPerPlugin = Math.max(2, config.verifyThreads());
    this.contexts = pluginId -> new CoreContext(config, new PluginStore(pluginId, this::storage, commits),
        address -> registry.storage().map(s -> !s.extension().keysOf(address).isEmpty()).orElse(false),
        mailboxes, json, type -> registry.extensionsOf(type));
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

  /** The storage, for the server's own services. */
  public Storage storage() {
    return registry.storage().map(PluginRegistry.Owned::extension).orElseThrow(
        () -> new IllegalStateException("no storage plugin installed"));
  }

  /**
   * Loads and starts every jar of the plugins directory, then builds the registry.
   *
   * @throws IllegalStateException when the storage fails to open, or more than one is installed
   */
  public void start() {
    Path root = config.pluginsDir();
    if (!Files.isDirectory(root)) {
      log.warn("Plugins directory {} does not exist: starting with no plugins", root.toAbsolutePath());
      return;
    }
    Map<Path, PluginJars.Fingerprint> jars;
    try {
      jars = PluginJars.list(root);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the plugins directory " + root.toAbsolutePath(), e);
    }
    synchronized (lock) {
      for (Map.Entry<Path, PluginJars.Fingerprint> jar : jars.entrySet()) {
        Optional<RunningPlugin> running = load(jar.getKey(), true);
        running.ifPresent(r -> logLoaded(r, jar.getKey()));
        deployed.put(jar.getKey(), new Deployed(jar.getValue(), running));
      }
      if (Admission.storages(running()).isEmpty()) {
        log.warn("No storage plugin installed: auth and every message from a registered sender are answered 'internal'");
      }
      publish();
    }
  }

  /** The registry of the running plugins. */
  public PluginRegistry registry() {
    return registry;
  }

  /** Ids of the running plugins, in load order. */
  public List<String> startedPlugins() {
    synchronized (lock) {
      return deployed.values().stream().flatMap(d -> d.running().stream()).map(RunningPlugin::id).toList();
    }
  }

  /** The running plugins' versions by id, in load order. */
  public Map<String, String> versions() {
    synchronized (lock) {
      Map<String, String> versions = new LinkedHashMap<>();
      deployed.values().forEach(d -> d.running().ifPresent(r -> versions.put(r.id(), r.version())));
      return versions;
    }
  }

  /** Each jar of the plugins directory as last applied (loaded or not), with its fingerprint then. */
  public Map<Path, PluginJars.Fingerprint> applied() {
    synchronized (lock) {
      Map<Path, PluginJars.Fingerprint> applied = new LinkedHashMap<>();
      deployed.forEach((jar, d) -> {
        if (d.fingerprint() != null) {
          applied.put(jar, d.fingerprint());
        }
      });
      return applied;
    }
  }

  /**
   * Loads a jar added to the plugins directory, or reloads one that changed: the old plugin is
   * unloaded first (its messages in flight finish), then the new one is loaded and started. Logs
   * the change in one line. A storage plugin is not reloaded.
   */
  public void apply(Path jar, PluginJars.Fingerprint fingerprint) {
    synchronized (lock) {
      Deployed old = deployed.get(jar);
      Optional<RunningPlugin> before = old == null ? Optional.empty() : old.running();
      if (before.isPresent() && before.get().storage().isPresent()) {
        log.warn("Plugin {} provides the storage: {} changed, but the storage is not reloaded while the server runs; "
            + "restart the server to use the new jar", before.get().id(), jar.getFileName());
        deployed.put(jar, new Deployed(fingerprint, before));
        return;
      }
      if (before.isPresent()) {
        deployed.remove(jar);
        publish();
        stop(before.get());
      }
      Optional<RunningPlugin> now = load(jar, false);
      deployed.put(jar, new Deployed(fingerprint, now));
      publish();
      if (before.isPresent() && now.isPresent()) {
        log.info("Plugin {} reloaded from {}: version {} -> {}, types {}", now.get().id(), jar.getFileName(),
            before.get().version(), now.get().version(), new TreeSet<>(now.get().types().keySet()));
      } else if (before.isPresent()) {
        log.warn("Plugin {} {} unloaded: its new jar {} did not start (see above)", before.get().id(),
            before.get().version(), jar.getFileName());
      } else {
        now.ifPresent(r -> logLoaded(r, jar));
      }
    }
  }

  /**
   * Unloads the plugin of a jar removed from the plugins directory: new messages no longer see its
   * types, those in flight finish. Logs the change in one line. A storage plugin keeps running.
   */
  public void remove(Path jar) {
    synchronized (lock) {
      Deployed old = deployed.get(jar);
      if (old == null) {
        return;
      }
      if (old.running().isPresent() && old.running().get().storage().isPresent()) {
        log.warn("Plugin {} provides the storage: {} was removed, but the storage keeps running until the server stops",
            old.running().get().id(), jar.getFileName());
        deployed.put(jar, new Deployed(null, old.running()));
        return;
      }
      deployed.remove(jar);
      if (old.running().isPresent()) {
        publish();
        stop(old.running().get());
        log.info("Plugin {} {} unloaded ({} removed)", old.running().get().id(), old.running().get().version(),
            jar.getFileName());
      }
    }
  }

  /** Stops and unloads every plugin, the last loaded first. */
  @Override
  public void close() {
    synchronized (lock) {
      registry = PluginRegistry.EMPTY;
      List<RunningPlugin> running = new ArrayList<>(deployed.values().stream().flatMap(d -> d.running().stream()).toList());
      deployed.clear();
      for (int i = running.size() - 1; i >= 0; i--) {
        stop(running.get(i));
      }
    }
    timer.stop();
    deleteTree(copies);
  }

  private static void logLoaded(RunningPlugin running, Path jar) {
    log.info("Plugin {} {} loaded from {}: types {}", running.id(), running.version(), jar.getFileName(),
        new TreeSet<>(running.types().keySet()));
  }

  /**
   * Loads, starts and checks the plugin of {@code jar}; logs and cleans up after any failure.
   *
   * @param atStart whether the server is starting: the only time a storage is loaded
   */
  private Optional<RunningPlugin> load(Path jar, boolean atStart) {
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
    PluginCalls calls = new PluginCalls(id, threadsPerPlugin, config.pluginTimeout(), config.pluginAnswerTimeout(), timer,
        wrapper.getPluginClassLoader());
    RunningPlugin running;
    try {
      calls.await("start", () -> manager.startPlugin(id), true);
      if (manager.getPlugin(id).getPluginState() != PluginState.STARTED) {
        throw new IllegalStateException("it did not start");
      }
      List<Class<?>> classes = manager.getExtensionClasses(id);
      // A storage opens its files in its constructor: at start that may take long on a large store.
      boolean bounded = !atStart || classes.stream().noneMatch(Storage.class::isAssignableFrom);
      running = calls.await("creating its extensions", () -> create(id, version, copy, calls, classes), bounded);
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
    String refusal;
    try {
      refusal = admission.refusal(running, atStart, running());
    } catch (IllegalStateException e) {
      stop(running);
      throw e;
    }
    if (refusal != null) {
      log.error("Plugin {} {} from {} refused: {}", id, version, name, refusal);
      stop(running);
      return Optional.empty();
    }
    return Optional.of(running);
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

  /** The running plugins, in load order. Guarded by lock. */
  private List<RunningPlugin> running() {
    return deployed.values().stream().flatMap(d -> d.running().stream()).toList();
  }

  /** Builds the registry from the running plugins and publishes it. Guarded by lock. */
  private void publish() {
    registry = PluginRegistry.of(running());
  }

  /** Waits for the plugin's calls in flight, then stops and unloads it and deletes its copy. */
  private void stop(RunningPlugin running) {
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
      files.sorted(Comparator.reverseOrder()).forEach(PluginHost::deleteQuietly);
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
