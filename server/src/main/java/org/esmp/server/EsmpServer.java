package org.esmp.server;

import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.StringJoiner;
import java.util.TreeMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.esmp.api.spi.Storage;
import org.esmp.api.StorageFailedException;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.crypto.Ed25519Verifier;
import org.esmp.server.data.DataDirectory;
import org.esmp.server.dispatch.CoreHandler;
import org.esmp.server.dispatch.Dispatcher;
import org.esmp.server.dispatch.ListenerBus;
import org.esmp.server.dispatch.Workers;
import org.esmp.server.store.Commits;
import org.esmp.server.store.ServerMailboxes;
import org.esmp.json.FrameParser;
import org.esmp.json.ServerJsonCodec;
import org.esmp.server.mailbox.MailboxService;
import org.esmp.server.net.NettyServer;
import org.esmp.server.plugin.PluginHost;
import org.esmp.server.plugin.PluginWatcher;
import org.esmp.server.session.IdentityService;
import org.esmp.server.session.SessionRegistry;
import org.esmp.server.verify.FrameVerifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running ESMP server: wires the parts together from one {@link ServerConfig}. The only place
 * that knows every part; each part gets what it needs through its constructor.
 */
public final class EsmpServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(EsmpServer.class);

  /** Decoded public keys kept for fast verification. */
  private static final int KEY_CACHE_CAPACITY = 65_536;
  /** Keys kept by the verifier of key_add proofs: a new key is checked about once, so few. */
  private static final int PROOF_KEY_CACHE_CAPACITY = 256;
  /**
   * The session types the server answers itself (ESMP/1 section 7): processed every time, never
   * answered as duplicates, {@code ts} optional. Plugins declare theirs (MessageHandler.sessionTypes).
   */
  private static final Set<String> CORE_SESSION_TYPES = Set.of("auth", "sync", "lookup");
  /** How often the plugins directory is looked at for jars added, replaced or removed. */
  private static final Duration PLUGIN_WATCH_INTERVAL = Duration.ofSeconds(1);

  private final ServerConfig config;
  private final DataDirectory data;
  private final PluginHost plugins;
  private final ListenerBus listeners;
  private final Workers workers;
  private final ScheduledExecutorService maintenance;
  private final Dispatcher dispatcher;
  private final NettyServer net;
  private final PluginWatcher watcher;
  /** Set once close() starts: a storage failure from then on is part of stopping, not fatal. */
  private final AtomicBoolean closing = new AtomicBoolean();

  private EsmpServer(ServerConfig config, Consumer<String> onFatal) throws Exception {
    this.config = config;
    NettyServer.checkPortFree(config); // before the data directory and the store
    this.data = DataDirectory.open(config.dataDir());
    Clock clock = Clock.systemUTC();
    this.listeners = new ListenerBus();
    this.workers = new Workers(config.verifyThreads());
    this.maintenance = Executors.newSingleThreadScheduledExecutor(daemonThreads("esmp-maintenance"));
    MailboxService mailboxes = new MailboxService(this::storage, workers);
    Commits commits = new Commits(this::storage, mailboxes::publish, clock, workers);
    // Its own small key cache: each key_add checks a key seen for the first time.
    IdentityService identities = new IdentityService(config, this::storage, commits,
        new SessionRegistry(config.maxConnectionsPerAddress()), new Ed25519Verifier(PROOF_KEY_CACHE_CAPACITY));
    Map<String, CoreHandler> core = Map.of(
        "auth", identities::auth,
        "key_add", identities::addKey,
        "key_revoke", identities::revokeKey,
        "lookup", identities::lookup,
        "sync", mailboxes::sync);
    try {
      this.plugins = new PluginHost(config, data.pluginCopies(), core.keySet(), commits,
          new ServerMailboxes(commits, mailboxes), new ServerJsonCodec());
    } catch (RuntimeException e) {
      data.close();
      throw e;
    }
    try {
      plugins.start();
      Predicate<String> sessionTypes = type -> CORE_SESSION_TYPES.contains(type) || plugins.registry().isSessionType(type);
      this.dispatcher = new Dispatcher(config, plugins, core, sessionTypes, commits, listeners, clock);
      FrameVerifier verifier = new FrameVerifier(new FrameParser(config.maxDepth()),
          new Ed25519Verifier(KEY_CACHE_CAPACITY), sessionTypes);
      this.net = new NettyServer(config, verifier, dispatcher, workers);
    } catch (Exception | Error e) {
      stopParts();
      throw e;
    }
    maintenance.scheduleWithFixedDelay(() -> trim(clock), 1, 60, TimeUnit.MINUTES);
    this.watcher = PluginWatcher.start(plugins, config.pluginsDir(), PLUGIN_WATCH_INTERVAL);
    // The storage stays while the server runs: one subscription. Last, so that a storage already
    // failed finds a whole server to stop.
    plugins.registry().storage().ifPresent(owned -> owned.extension().failure()
        .thenAccept(failure -> onStorageFailure(failure, onFatal == null ? this::closeAfterFailure : onFatal)));
  }

  /**
   * Hands a storage failure to the fatal handler, on a thread of its own: the handler closes the
   * server or exits, which must not run on the storage's thread (closing the storage waits for it).
   */
  private void onStorageFailure(StorageFailedException failure, Consumer<String> onFatal) {
    if (closing.get()) {
      return;
    }
    String reason = failure == null || failure.getMessage() == null ? "unknown failure" : failure.getMessage();
    Thread fatal = new Thread(() -> onFatal.accept(reason), "esmp-fatal");
    fatal.start();
  }

  /** The fatal handler of {@link #start(ServerConfig)}: one line, and the server closes; the JVM stays. */
  private void closeAfterFailure(String reason) {
    log.error("storage failed: {}; closing the server", reason);
    close();
  }

  private Storage storage() {
    return plugins.storage();
  }

  /** Retention: deletes mailbox entries older than the configured period. */
  private void trim(Clock clock) {
    if (closing.get()) {
      return;
    }
    if (plugins.registry().storage().isEmpty()) {
      return;
    }
    long cutoff = clock.millis() - config.retention().toMillis();
    storage().trim(cutoff).whenComplete((deleted, failure) -> {
      if (failure instanceof StorageFailedException
          || failure != null && failure.getCause() instanceof StorageFailedException) {
        log.debug("Retention: the storage failed", failure); // logged once, as fatal
      } else if (failure != null) {
        log.error("Retention: trimming mailboxes failed", failure);
      } else if (deleted > 0) {
        log.info("Retention: deleted {} mailbox entries older than {} days", deleted, config.retention().toDays());
      }
    });
  }

  /**
   * Starts a server: creates and locks the data directory, loads the plugins, and listens. If the
   * storage fails for good while it runs ({@link Storage#failure()}), the server logs one line at
   * ERROR and closes; the JVM goes on (for tests and embedding: {@link Main} exits instead).
   *
   * @throws Exception when it cannot start (port taken, unusable directory, broken storage)
   * @throws org.esmp.server.data.DataDirectoryInUseException when another server runs on the same
   *     data directory
   */
  public static EsmpServer start(ServerConfig config) throws Exception {
    return start(config, null);
  }

  /**
   * Starts a server as {@link #start(ServerConfig)}, with {@code onFatal} called once if the storage
   * fails for good while it runs.
   *
   * @param onFatal called on a thread of its own with the failure's one-line reason; it logs and
   *     ends the server (it may exit the JVM). Null for the default: log at ERROR and close.
   */
  public static EsmpServer start(ServerConfig config, Consumer<String> onFatal) throws Exception {
    EsmpServer server = new EsmpServer(config, onFatal);
    log.info(server.startupLine());
    return server;
  }

  /**
   * The one line that says what this server serves and from where, e.g. {@code ESMP server
   * listening on 0.0.0.0:5888; data /var/lib/esmp; domains example.com; registration open; config
   * /opt/esmp/conf/esmp.yaml; 4 plugins: direct-delivery 0.1.0, ...}.
   */
  String startupLine() {
    Map<String, String> versions = new TreeMap<>(plugins.versions());
    StringJoiner started = new StringJoiner(", ");
    versions.forEach((id, version) -> started.add(id + " " + version));
    return "ESMP server listening on " + config.bind() + ":" + port()
        + "; data " + config.dataDir().toAbsolutePath()
        + "; domains " + String.join(", ", config.domains())
        + "; registration " + config.registration().name().toLowerCase(Locale.ROOT)
        + "; config " + (config.configFile() == null ? "none (embedded defaults)" : config.configFile())
        + "; " + versions.size() + " plugins: " + (versions.isEmpty() ? "none" : started);
  }

  /** The TCP port the server listens on. */
  public int port() {
    return net.port();
  }

  /** The configuration it runs with. */
  public ServerConfig config() {
    return config;
  }

  /** Stops listening, drains the workers, stops the plugins and closes the storage. Idempotent. */
  @Override
  public void close() {
    if (!closing.compareAndSet(false, true)) {
      return;
    }
    dispatcher.stopping();
    watcher.close();
    net.close();
    stopParts();
    log.info("ESMP server stopped");
  }

  private void stopParts() {
    maintenance.shutdownNow();
    workers.close();
    plugins.registry().storage().ifPresent(owned -> closeStorage(owned.extension()));
    plugins.close();
    data.close(); // last: the plugins' copies are deleted and the storage closed
  }

  private static void closeStorage(Storage storage) {
    try {
      storage.close();
    } catch (RuntimeException e) {
      log.error("Closing the storage failed", e);
    }
  }

  private static ThreadFactory daemonThreads(String prefix) {
    AtomicInteger count = new AtomicInteger();
    return runnable -> {
      Thread thread = new Thread(runnable, prefix + "-" + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }

}
