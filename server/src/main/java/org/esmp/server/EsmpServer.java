package org.esmp.server;

import java.io.IOException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Optional;
import java.util.Set;
import java.util.StringJoiner;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.esmp.api.Address;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.esmp.api.group.GroupLedger;
import org.esmp.api.json.JsonObject;
import org.esmp.api.spi.Storage;
import org.esmp.api.StorageFailedException;
import org.esmp.server.admin.AddressAdmin;
import org.esmp.server.admin.AdminChannel;
import org.esmp.server.admin.AdminCommands;
import org.esmp.server.backup.BackupWriter;
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
import org.esmp.server.metrics.MetricsEndpoint;
import org.esmp.server.metrics.ServerMetrics;
import org.esmp.server.net.NettyServer;
import org.esmp.server.plugin.PluginHost;
import org.esmp.server.plugin.PluginRegistry;
import org.esmp.server.plugin.PluginWatcher;
import org.esmp.server.session.AddressStates;
import org.esmp.server.session.IdentityService;
import org.esmp.server.session.SessionRegistry;
import org.esmp.server.federation.CoreFederation;
import org.esmp.server.federation.GroupHomes;
import org.esmp.server.federation.InboundRelays;
import org.esmp.server.federation.OutboxIndex;
import org.esmp.server.federation.PeerAuth;
import org.esmp.server.federation.PeerEndpoints;
import org.esmp.server.federation.RelayedSession;
import org.esmp.server.federation.Relays;
import org.esmp.server.federation.ServerKey;
import org.esmp.server.federation.SharedServerKey;
import org.esmp.server.tls.ServerTls;
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
  private static final Set<String> CORE_SESSION_TYPES = Set.of("auth", "sync", "lookup", Dispatcher.RELAY);
  /** How often the plugins directory is looked at for jars added, replaced or removed. */
  private static final Duration PLUGIN_WATCH_INTERVAL = Duration.ofSeconds(1);
  /**
   * How often a server reads again the addresses disabled or removed, from a storage several
   * servers share: the longest an operator's change through one server takes to hold on the others.
   */
  private static final Duration STATES_RELOAD = Duration.ofSeconds(2);

  private final ServerConfig config;
  private final DataDirectory data;
  /** The last reading of the addresses' states failed; only the maintenance thread uses it. */
  private boolean statesUnread;
  private final PluginHost plugins;
  private final ListenerBus listeners;
  private final Workers workers;
  private final ScheduledExecutorService maintenance;
  private final Dispatcher dispatcher;
  private final NettyServer net;
  /** Null when the port is plaintext only. */
  private final ServerTls tls;
  private final ServerKey serverKey;
  private final PluginWatcher watcher;
  private final ServerMetrics metrics;
  /** The metrics port; null when it is off. */
  private final MetricsEndpoint metricsEndpoint;
  /** The types the server answers itself; null until they are known. */
  private final Set<String> coreTypes;
  /** Empty when the socket could not be made (logged). */
  private final Optional<AdminChannel> admin;
  /** Set once close() starts: a storage failure from then on is part of stopping, not fatal. */
  private final AtomicBoolean closing = new AtomicBoolean();
  /** What the server is doing while it starts, for {@code /ready}; null once it serves. */
  private volatile String starting = "starting: loading the plugins and opening the storage";
  /** Set when the storage failed for good. */
  private volatile boolean storageFailed;

  private EsmpServer(ServerConfig config, Consumer<String> onFatal) throws Exception {
    this.config = config;
    NettyServer.checkPortFree(config); // before the data directory and the store
    // A certificate that cannot be used is a bad setting: found before anything opens.
    this.tls = config.tls().enabled() ? ServerTls.load(config.tls()) : null;
    this.data = DataDirectory.open(config.dataDir());
    try {
      this.serverKey = ServerKey.loadOrCreate(data.path()); // made on first start, announced in hello
    } catch (IOException e) {
      data.close();
      throw e;
    }
    // The metrics port listens before the plugins and the storage start: /ready says 503 meanwhile.
    this.metrics = config.metrics().enabled() ? ServerMetrics.prometheus(this::declares) : ServerMetrics.off();
    metrics.gauge("esmp.ready", "1 when /ready answers 200, else 0", () -> notReady() == null ? 1 : 0);
    if (tls != null) {
      metrics.gauge("esmp.tls.certificate.expiry.seconds", "Seconds until the certificate served to new TLS connections expires",
          () -> (tls.certificate().getNotAfter().getTime() - System.currentTimeMillis()) / 1000.0);
    }
    try {
      this.metricsEndpoint = config.metrics().enabled()
          ? MetricsEndpoint.start(config.metrics(), metrics, this::notReady) : null;
    } catch (Exception e) {
      metrics.close();
      data.close();
      throw e;
    }
    Clock clock = Clock.systemUTC();
    this.listeners = new ListenerBus();
    this.workers = new Workers(config.verifyThreads());
    this.maintenance = Executors.newSingleThreadScheduledExecutor(daemonThreads("esmp-maintenance"));
    MailboxService mailboxes = new MailboxService(this::storage, workers);
    Relays relays = new Relays(this::registry);
    Commits commits = new Commits(this::storage, mailboxes::publish, clock, workers, metrics,
        new OutboxIndex(config::serves, relays::appended));
    // Its own small key cache, for key_add and esmp-admin users add: each checks a key seen for the first time.
    Ed25519Verifier newKeys = new Ed25519Verifier(PROOF_KEY_CACHE_CAPACITY);
    SessionRegistry sessions = new SessionRegistry(config.maxConnectionsPerAddress());
    AddressStates states = new AddressStates();
    IdentityService identities = new IdentityService(config, this::storage, commits, sessions, states, newKeys, metrics);
    GroupHomes homes = new GroupHomes(this::storage);
    PeerAuth peerAuth = new PeerAuth(config, relays);
    // One cache of decoded keys for every frame and every message a relay carries.
    Ed25519Verifier keys = new Ed25519Verifier(KEY_CACHE_CAPACITY);
    // Checks what the server signs as itself, and the messages relays carry.
    FrameVerifier relayed = new FrameVerifier(new FrameParser(config.maxDepth()), keys, type -> true);
    InboundRelays inbound = new InboundRelays(config, this::storage, commits, relayed, homes, relays, this::hasGroup,
        (message, from, peer, session, receivedAt) -> dispatcher().dispatchRelayed(message, from, peer.domain(),
            new RelayedSession(session, from), session, receivedAt));
    Map<String, CoreHandler> core = Map.of(
        "auth", (request, session) -> PeerAuth.isPeerAuth(request) ? peerAuth.auth(request, session)
            : identities.auth(request, session),
        "key_add", identities::addKey,
        "key_revoke", identities::revokeKey,
        "lookup", (request, session) -> remoteLookup(request, relays).orElseGet(() -> identities.lookup(request, session)),
        "sync", mailboxes::sync,
        Dispatcher.RELAY, inbound::relay);
    this.coreTypes = core.keySet();
    try {
      this.plugins = new PluginHost(config, data.pluginCopies(), core.keySet(), commits,
          new ServerMailboxes(commits, mailboxes), new ServerJsonCodec(), metrics,
          new CoreFederation(config.peering(), serverKey, PeerEndpoints.withSystemDns(config.peering()), this::storage,
              relayed));
    } catch (RuntimeException e) {
      closeMetrics();
      data.close();
      throw e;
    }
    try {
      plugins.start();
      starting = "starting: opening the ESMP port";
      if (plugins.registry().storage().isPresent()) {
        states.load(storage());
        storage().watch(mailboxes.watcher()); // a storage shared by a cluster: other servers' appends
        if (storage().shared()) {
          SharedServerKey.check(storage(), serverKey, config.dataDir().resolve(ServerKey.FILE));
          maintenance.scheduleWithFixedDelay(() -> reloadStates(states, sessions), STATES_RELOAD.toMillis(),
              STATES_RELOAD.toMillis(), TimeUnit.MILLISECONDS);
        }
      }
      Predicate<String> sessionTypes = type -> CORE_SESSION_TYPES.contains(type) || plugins.registry().isSessionType(type);
      this.dispatcher = new Dispatcher(config, plugins, core, sessionTypes, commits, states, listeners, clock, metrics,
          new Dispatcher.Routing() {
            @Override
            public Optional<String> homeOf(String groupId) {
              return relays.active() ? homes.homeOf(groupId) : Optional.empty();
            }

            @Override
            public CompletionStage<Reply> forward(Request request, String domain) {
              return relays.forward(request, domain);
            }
          });
      FrameVerifier verifier = new FrameVerifier(new FrameParser(config.maxDepth()), keys, sessionTypes);
      this.net = new NettyServer(config, tls, serverKey.publicKeyBase64(), verifier, dispatcher, workers, metrics);
    } catch (Exception | Error e) {
      stopParts();
      throw e;
    }
    maintenance.scheduleWithFixedDelay(() -> trim(clock), 1, 60, TimeUnit.MINUTES);
    metrics.outboxes(relays::outboxes);
    maintenance.scheduleWithFixedDelay(metrics::refreshPeers, 15, 15, TimeUnit.SECONDS);
    if (tls != null) {
      long reload = config.tls().reloadInterval().toMillis();
      maintenance.scheduleWithFixedDelay(tls::reloadIfChanged, reload, reload, TimeUnit.MILLISECONDS);
    }
    this.watcher = PluginWatcher.start(plugins, config.pluginsDir(), PLUGIN_WATCH_INTERVAL);
    AddressAdmin users = new AddressAdmin(config, this::storage, commits, identities, sessions, states, newKeys, clock);
    this.admin = AdminChannel.open(config.dataDir(),
        new AdminCommands(users, plugins, new BackupWriter(config, plugins, version(), clock)));
    // The storage stays while the server runs: one subscription. Last, so that a storage already
    // failed finds a whole server to stop.
    plugins.registry().storage().ifPresent(owned -> owned.extension().failure()
        .thenAccept(failure -> onStorageFailure(failure, onFatal == null ? this::closeAfterFailure : onFatal)));
    starting = null;
  }

  /**
   * Why the server cannot serve, for {@code GET /ready}; null when it can: the storage is open,
   * the plugins started, the ESMP port listens, and nothing failed or began stopping since.
   */
  private String notReady() {
    if (closing.get()) {
      return "stopping";
    }
    String phase = starting;
    if (phase != null) {
      return phase;
    }
    if (storageFailed) {
      return "the storage failed";
    }
    if (plugins.registry().storage().isEmpty()) {
      return "no storage plugin installed";
    }
    return null;
  }

  /** Whether the server or a running plugin declares {@code type}: it gets a metrics label of its own. */
  private boolean declares(String type) {
    Set<String> core = coreTypes;
    PluginHost host = plugins;
    return core != null && core.contains(type) || host != null && host.registry().types().containsKey(type);
  }

  /**
   * Hands a storage failure to the fatal handler, on a thread of its own: the handler closes the
   * server or exits, which must not run on the storage's thread (closing the storage waits for it).
   */
  private void onStorageFailure(StorageFailedException failure, Consumer<String> onFatal) {
    storageFailed = true;
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

  private PluginRegistry registry() {
    return plugins.registry();
  }

  /** Whether the group ledger (group-threads) has {@code groupId}: the group lives here. */
  private boolean hasGroup(String groupId) {
    return registry().extensionsOf(GroupLedger.class).stream().anyMatch(ledger -> ledger.group(groupId).isPresent());
  }

  /** The dispatcher, for the relays that hand it messages once it exists. */
  private Dispatcher dispatcher() {
    return dispatcher;
  }

  /**
   * The answer to a {@code lookup} of an address of another domain, from that domain's server
   * (ESMP/1 section 4), when a relay runs and a local client asked; empty when this server answers.
   */
  private Optional<CompletionStage<Reply>> remoteLookup(Request request, Relays relays) {
    if (request.peer().isPresent() || !relays.active()) {
      return Optional.empty(); // a peer's lookup is for an address here; never passed on again
    }
    JsonObject body = request.message().body().asObject();
    String address = body == null ? null : body.string("address").orElse(null);
    if (address == null || !Address.isValid(address)) {
      return Optional.empty(); // refused by the local lookup, with the reason
    }
    String domain = Address.parse(address).domain();
    return config.serves(domain) ? Optional.empty() : Optional.of(relays.forward(request, domain));
  }

  /** Reads the addresses' states again from a storage other servers change too. */
  private void reloadStates(AddressStates states, SessionRegistry sessions) {
    if (closing.get() || plugins.registry().storage().isEmpty()) {
      return;
    }
    try {
      for (Address address : states.reload(storage())) {
        // Disabled or removed through another server: as there, its connections here close.
        int closed = sessions.closeAll(address);
        log.info("{} was {} through another server; closed its {} connection(s) here", address,
            states.of(address).map(e -> e.state().word()).orElse("changed"), closed);
      }
      if (statesUnread) {
        statesUnread = false;
        log.info("The addresses' states are read from the storage again");
      }
    } catch (RuntimeException e) {
      if (!statesUnread) { // once until it works again: the database may be down a while
        statesUnread = true;
        log.warn("Cannot read the addresses' states from the storage (tried every {} s): {}",
            STATES_RELOAD.toSeconds(), e.toString());
      }
    }
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
   * listening on 0.0.0.0:5888; data /var/lib/esmp; domains example.com; registration open; TLS
   * required (CN=example.com until 2027-02-28T12:00:00Z); metrics 127.0.0.1:9100; config
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
        + "; " + tlsPart()
        + "; metrics " + metricsPort().stream().mapToObj(p -> config.metrics().bind() + ":" + p).findFirst().orElse("off")
        + "; config " + (config.configFile() == null ? "none (embedded defaults)" : config.configFile())
        + "; " + versions.size() + " plugins: " + (versions.isEmpty() ? "none" : started);
  }

  /** TLS on or off, for the startup line: required or beside plaintext, and whose certificate until when. */
  private String tlsPart() {
    if (tls == null) {
      return "TLS off";
    }
    X509Certificate served = tls.certificate();
    return "TLS " + (config.tls().required() ? "required" : "optional (plaintext too)") + " ("
        + served.getSubjectX500Principal().getName() + " until " + served.getNotAfter().toInstant() + ")";
  }

  /** The TCP port the server listens on. */
  public int port() {
    return net.port();
  }

  /** The server's public key, base64, as {@code hello} announces it. */
  public String serverKey() {
    return serverKey.publicKeyBase64();
  }

  /** The port the metrics endpoint listens on; empty when it is off. */
  public OptionalInt metricsPort() {
    return metricsEndpoint == null ? OptionalInt.empty() : OptionalInt.of(metricsEndpoint.port());
  }

  /** The administration channel's socket; empty when it could not be opened (logged at start). */
  public Optional<Path> adminSocket() {
    return admin.map(AdminChannel::socket);
  }

  /** This server's version, from its jar's manifest; {@code development} outside a jar. */
  public static String version() {
    String version = EsmpServer.class.getPackage().getImplementationVersion();
    return version == null ? "development" : version;
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
    admin.ifPresent(AdminChannel::close);
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
    data.close(); // the plugins' copies are deleted and the storage closed
    closeMetrics(); // last: /ready says "stopping" until here
  }

  private void closeMetrics() {
    if (metricsEndpoint != null) {
      metricsEndpoint.close();
    }
    metrics.close();
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
