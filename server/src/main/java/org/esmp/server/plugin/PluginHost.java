package org.esmp.server.plugin;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import org.esmp.api.JsonCodec;
import org.esmp.api.Mailboxes;
import org.esmp.api.ServerContext;
import org.esmp.api.federation.Federation;
import org.esmp.api.federation.Relay;
import org.esmp.api.spi.Storage;
import org.esmp.server.config.ConfigException;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.metrics.ServerMetrics;
import org.esmp.server.store.Commits;
import org.esmp.server.store.PluginStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the plugins of the plugins directory: loads each jar ({@link PluginLoader}), lets the
 * started plugin join the running ones or refuses it ({@link Admission}), and indexes the running
 * plugins' extensions in an immutable {@link PluginRegistry} that is replaced as a whole whenever
 * the set changes. At start every jar is loaded; afterwards {@link PluginWatcher} calls
 * {@link #apply} and {@link #remove} as jars are added, replaced and removed.
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
 * <p>Each plugin is loaded from a private copy of its jar in a directory of the data directory
 * (see {@link PluginLoader}); the directory is deleted on {@link #close}. Unloading first takes the
 * plugin out of the registry (new messages no longer see it), then waits for its calls in flight
 * (at most the plugin answer timeout), then closes its extensions that are {@link AutoCloseable},
 * stops it (PF4J's {@code Plugin.stop}) and closes its class loader.
 *
 * <p>Thread-safe: changes are made one at a time, on the thread that calls them; {@link #registry}
 * may be read from any thread at any time.
 */
public final class PluginHost implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(PluginHost.class);

  private final ServerConfig config;
  private final Admission admission;
  private final PluginLoader loader; // used under lock, but for its close
  private final Object lock = new Object();
  /** Each jar of the plugins directory as last applied, in load order. Guarded by lock. */
  private final Map<Path, Deployed> deployed = new LinkedHashMap<>();
  private volatile PluginRegistry registry = PluginRegistry.EMPTY;

  /** The storage that runs when none is configured and its jar is installed. */
  static final String DEFAULT_STORAGE = "storage-mapdb";

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
   * @param metrics where each plugin's calls are counted and timed
   * @throws UncheckedIOException when the directory cannot be emptied or created
   */
  public PluginHost(ServerConfig config, Path copies, Set<String> coreTypes, Commits commits, Mailboxes mailboxes,
      JsonCodec json, ServerMetrics metrics) {
    this(config, copies, coreTypes, commits, mailboxes, json, metrics, null);
  }

  /**
   * @param federation the server's services for a federation plugin; null: none (tests, commands)
   */
  public PluginHost(ServerConfig config, Path copies, Set<String> coreTypes, Commits commits, Mailboxes mailboxes,
      JsonCodec json, ServerMetrics metrics, Federation federation) {
    this.config = config;
    this.admission = new Admission(coreTypes);
    Function<String, ServerContext> contexts = pluginId -> new CoreContext(pluginId, config,
        new PluginStore(pluginId, this::storage, commits),
        address -> registry.storage().map(s -> !s.extension().keysOf(address).isEmpty()).orElse(false),
        mailboxes, json, type -> registry.extensionsOf(type), federation,
        () -> federation != null && !registry.owned(Relay.class).isEmpty());
    this.loader = new PluginLoader(config, copies, contexts, metrics);
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
    // The configured storage; unset, storage-mapdb when its jar is there (the zip carries others too).
    Optional<String> storage = config.storagePlugin().or(() -> jars.keySet().stream().map(PluginJars::pluginId)
        .flatMap(Optional::stream).filter(DEFAULT_STORAGE::equals).findFirst());
    loader.chooseStorage(storage);
    synchronized (lock) {
      for (Map.Entry<Path, PluginJars.Fingerprint> jar : jars.entrySet()) {
        Optional<RunningPlugin> running = load(jar.getKey(), true);
        running.ifPresent(r -> logLoaded(r, jar.getKey()));
        deployed.put(jar.getKey(), new Deployed(jar.getValue(), running));
      }
      List<String> storages = Admission.storages(running());
      Optional<String> chosen = config.storagePlugin();
      if (chosen.isPresent() && !storages.contains(chosen.get())) {
        throw new ConfigException("storage " + chosen.get().substring("storage-".length()) + " is configured, but no "
            + "plugin " + chosen.get() + " started from " + root.toAbsolutePath() + " (its log lines above say why)");
      }
      if (storages.isEmpty()) {
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
      return running().stream().map(RunningPlugin::id).toList();
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

  /**
   * A jar of the plugins directory as last applied, for the operator ({@code esmp-admin plugins
   * list}).
   *
   * @param jar the jar's file name
   * @param id the plugin's id; empty when it did not load
   * @param version the plugin's version; empty when it did not load
   * @param state whether it runs
   * @param storage whether it provides the storage
   */
  public record PluginStatus(String jar, Optional<String> id, Optional<String> version, State state, boolean storage) {

    /** Whether a jar's plugin runs. */
    public enum State {
      /** It runs. */
      STARTED,
      /** It did not load or start, or was refused: the log says why. */
      FAILED,
      /** The storage, whose jar was removed: it runs until the server stops. */
      JAR_REMOVED,
      /** A storage other than the one configured ({@code storage}): not started. */
      OTHER_STORAGE;

      /** The word shown: {@code started}, {@code failed}, {@code jar-removed}, {@code other-storage}. */
      public String word() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
      }
    }
  }

  /** Each jar of the plugins directory as last applied, in load order, with its plugin's state. */
  public List<PluginStatus> status() {
    synchronized (lock) {
      return deployed.entrySet().stream().map(e -> {
        String jar = e.getKey().getFileName().toString();
        Optional<RunningPlugin> running = e.getValue().running();
        if (running.isEmpty()) {
          Optional<String> other = loader.otherStorage(e.getKey());
          return other.isPresent()
              ? new PluginStatus(jar, other, Optional.empty(), PluginStatus.State.OTHER_STORAGE, true)
              : new PluginStatus(jar, Optional.empty(), Optional.empty(), PluginStatus.State.FAILED, false);
        }
        RunningPlugin plugin = running.get();
        PluginStatus.State state = e.getValue().fingerprint() == null
            ? PluginStatus.State.JAR_REMOVED : PluginStatus.State.STARTED;
        return new PluginStatus(jar, Optional.of(plugin.id()), Optional.of(plugin.version()), state,
            plugin.storage().isPresent());
      }).toList();
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
        loader.stop(before.get());
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
        loader.stop(old.running().get());
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
      List<RunningPlugin> running = running();
      deployed.clear();
      for (int i = running.size() - 1; i >= 0; i--) {
        loader.stop(running.get(i));
      }
    }
    loader.close();
  }

  private static void logLoaded(RunningPlugin running, Path jar) {
    log.info("Plugin {} {} loaded from {}: types {}", running.id(), running.version(), jar.getFileName(),
        new TreeSet<>(running.types().keySet()));
  }

  /**
   * Loads, starts and checks the plugin of {@code jar}; logs and cleans up after any failure.
   * Guarded by lock.
   *
   * @param atStart whether the server is starting: the only time a storage is loaded
   */
  private Optional<RunningPlugin> load(Path jar, boolean atStart) {
    Optional<RunningPlugin> started = loader.load(jar, atStart);
    if (started.isEmpty()) {
      return started;
    }
    RunningPlugin plugin = started.get();
    String refusal;
    try {
      refusal = admission.refusal(plugin, atStart, running());
    } catch (IllegalStateException e) {
      loader.stop(plugin);
      throw e;
    }
    if (refusal != null) {
      log.error("Plugin {} {} from {} refused: {}", plugin.id(), plugin.version(), jar.getFileName(), refusal);
      loader.stop(plugin);
      return Optional.empty();
    }
    return started;
  }

  /** The running plugins, in load order. Guarded by lock. */
  private List<RunningPlugin> running() {
    return deployed.values().stream().flatMap(d -> d.running().stream()).toList();
  }

  /** Builds the registry from the running plugins and publishes it. Guarded by lock. */
  private void publish() {
    registry = PluginRegistry.of(running());
  }
}
