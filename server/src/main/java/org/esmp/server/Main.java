package org.esmp.server;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.esmp.server.config.ConfigException;
import org.esmp.server.config.ConfigFile;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.data.DataDirectory;
import org.esmp.server.data.DataDirectoryInUseException;
import org.esmp.server.federation.ServerKey;
import org.esmp.server.metrics.MetricsEndpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * {@code esmp-server}: reads the configuration (embedded defaults, then the config file, then
 * flags), starts the server and runs until stopped. Exit codes:
 *
 * <ul>
 *   <li>143 or 130: stopped by SIGTERM or SIGINT (the JVM's own code, 128 + the signal; the
 *       shutdown hook closes the server first);
 *   <li>1: the server could not start (one line on stderr);
 *   <li>2: bad configuration (one line on stderr);
 *   <li>3: out of memory, from the JVM itself ({@code bin/esmp-server} runs it with
 *       {@code -XX:+ExitOnOutOfMemoryError});
 *   <li>{@value #STORAGE_FAILED}: the storage failed for good while running (a disk sync or
 *       checkpoint failed, the disk is full): one ERROR line in the log. Nothing more was
 *       acknowledged after the failure; a supervisor restarts the server, and the storage replays
 *       what was durable.
 * </ul>
 *
 * <p>Stopping closes the server within {@value #CLOSE_SECONDS} seconds, or exits anyway: a failed
 * disk can leave a close waiting forever.
 */
@Command(
    name = "esmp-server",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    subcommands = {AddUserCommand.class, TlsSelfSignedCommand.class},
    sortOptions = false,
    description = "Serves ESMP/1 on TCP. Settings come from the embedded defaults, then the config file, then these flags.")
public final class Main implements Callable<Integer> {


  private static final Logger log = LoggerFactory.getLogger(Main.class);

  /**
   * The exit code after the storage failed while running: 74, EX_IOERR of sysexits.h. Not 3, which
   * is the JVM's own after an OutOfMemoryError with -XX:+ExitOnOutOfMemoryError.
   */
  static final int STORAGE_FAILED = 74;
  /** How long stopping waits for the server to close before the JVM exits anyway. */
  static final int CLOSE_SECONDS = 10;

  // INHERIT: add-user takes them too, before or after its own arguments.
  @Option(scope = ScopeType.INHERIT, names = "--port", paramLabel = "PORT", description = "TCP port (default 5888)")
  Integer port;

  @Option(scope = ScopeType.INHERIT, names = "--bind", paramLabel = "HOST", description = "address to listen on (default 0.0.0.0)")
  String bind;

  @Option(scope = ScopeType.INHERIT, names = "--domain", paramLabel = "NAME", description = "the domain this server serves (default localhost)")
  String domain;

  @Option(scope = ScopeType.INHERIT, names = "--data-dir", paramLabel = "DIR",
      description = "where durable state lives (default: data/ in the installation directory; data_dir in esmp.yaml "
          + "is relative to that directory, this flag to the current one)")
  Path dataDir;

  @Option(scope = ScopeType.INHERIT, names = "--plugins-dir", paramLabel = "DIR",
      description = "where plugin jars are loaded from (default: plugins/ in the installation directory)")
  Path pluginsDir;

  @Option(scope = ScopeType.INHERIT, names = "--registration", paramLabel = "open|closed",
      description = "whether auth may register new addresses (default open)")
  String registration;

  @Option(scope = ScopeType.INHERIT, names = "--tls-cert", paramLabel = "FILE",
      description = "PEM certificate chain: the port speaks TLS too, and requires it unless require_tls is false")
  Path tlsCert;

  @Option(scope = ScopeType.INHERIT, names = "--tls-key", paramLabel = "FILE",
      description = "PEM private key of --tls-cert")
  Path tlsKey;

  @Option(scope = ScopeType.INHERIT, names = "--peer", paramLabel = "DOMAIN=HOST:PORT[:KEY]",
      description = "the server of another domain (repeatable), with its server key (base64, from its "
          + "--print-server-key) to pin it; over a peers entry of the same domain")
  List<String> peers = new ArrayList<>();

  @Option(scope = ScopeType.INHERIT, names = "--storage", paramLabel = "NAME",
      description = "the storage plugin to run, storage-NAME: mapdb (this machine's disk) or postgres (a "
          + "PostgreSQL database, shared by the servers of a cluster); default: the one installed")
  String storage;

  @Option(scope = ScopeType.INHERIT, names = "--jdbc-url", paramLabel = "URL",
      description = "with --storage postgres: the database, e.g. jdbc:postgresql://db1,db2/esmp?targetServerType=primary")
  String jdbcUrl;

  @Option(scope = ScopeType.INHERIT, names = "--db-user", paramLabel = "USER", description = "with --storage postgres: the database user")
  String dbUser;

  @Option(scope = ScopeType.INHERIT, names = "--db-password-file", paramLabel = "FILE",
      description = "with --storage postgres: a file holding the database user's password")
  Path dbPasswordFile;

  @Option(scope = ScopeType.INHERIT, names = "--metrics-port", paramLabel = "N",
      description = "HTTP port for /metrics (Prometheus), /health and /ready, on metrics_bind (127.0.0.1); "
          + "0 or absent: off")
  Integer metricsPort;

  @Option(names = "--print-server-key",
      description = "print this server's public key (base64; made in the data directory if it has none yet) and exit")
  boolean printServerKey;

  @Option(scope = ScopeType.INHERIT, names = "--config", paramLabel = "FILE",
      description = "YAML settings (default: conf/esmp.yaml in the installation directory, when it exists)")
  Path config;

  public static void main(String[] args) {
    int code = run(args);
    if (code != 0) {
      System.exit(code);
    }
  }

  /** Runs the command; returns the exit code, or blocks while the server runs. */
  static int run(String[] args) {
    CommandLine commandLine = new CommandLine(new Main());
    commandLine.setParameterExceptionHandler((e, ignored) -> {
      PrintWriter err = e.getCommandLine().getErr();
      err.println("esmp-server: " + e.getMessage() + " (see esmp-server --help)");
      err.flush();
      return 2;
    });
    commandLine.setExecutionExceptionHandler((e, cl, parsed) -> {
      if (e instanceof ConfigException) {
        cl.getErr().println("esmp-server: " + e.getMessage());
        cl.getErr().flush();
        return 2;
      }
      throw e;
    });
    return commandLine.execute(args);
  }

  @Override
  public Integer call() throws Exception {
    ServerConfig serverConfig = resolve();
    if (printServerKey) {
      try {
        System.out.println(serverKey(serverConfig.dataDir()).publicKeyBase64());
        return 0;
      } catch (IOException e) {
        return startFailed("cannot read the server key: " + e.getMessage(), e);
      }
    }
    EsmpServer server;
    try {
      server = EsmpServer.start(serverConfig, Main::exitAfterStorageFailure);
    } catch (MetricsEndpoint.BindFailedException e) {
      return startFailed("cannot listen for metrics on " + e.getMessage(), e);
    } catch (BindException e) {
      return startFailed("cannot listen on " + serverConfig.bind() + ":" + serverConfig.port() + ": " + e.getMessage(), e);
    } catch (ConfigException e) {
      throw e; // a data directory it cannot use, as any bad setting: one line, exit code 2
    } catch (Exception e) {
      return startFailed("cannot start: " + e.getMessage(), e);
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      closeWithin(server, CLOSE_SECONDS);
      stopped.countDown();
    }, "esmp-shutdown"));
    stopped.await();
    return 0;
  }

  /**
   * The server key of the data directory {@code dir}: read when it is there, else made there, under
   * the directory's lock. A server starting on it at the same moment makes it first, then this reads it.
   */
  private static ServerKey serverKey(Path dir) throws IOException {
    Path file = dir.resolve(ServerKey.FILE);
    if (Files.exists(file)) {
      return ServerKey.read(file);
    }
    try (DataDirectory data = DataDirectory.open(dir)) {
      return ServerKey.loadOrCreate(data.path());
    } catch (DataDirectoryInUseException running) {
      return ServerKey.read(file); // the running server made it when it started
    }
  }

  /**
   * The fatal handler: one line, then exit {@value #STORAGE_FAILED}. The shutdown hook closes the
   * server first (it stops accepting connections first), bounded by {@value #CLOSE_SECONDS} s.
   */
  private static void exitAfterStorageFailure(String reason) {
    log.error("storage failed: {}; exiting so that a restart replays the journal", reason);
    System.exit(STORAGE_FAILED);
  }

  /** Closes {@code server} on a thread of its own, waiting at most {@code seconds} for it. */
  private static void closeWithin(EsmpServer server, int seconds) {
    Thread closer = new Thread(server::close, "esmp-close");
    closer.setDaemon(true);
    closer.start();
    try {
      closer.join(seconds * 1000L);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (closer.isAlive()) {
      log.warn("The server did not close within {} s; exiting anyway", seconds);
    }
  }

  private static int startFailed(String line, Exception e) {
    log.debug("Start failed", e);
    System.err.println("esmp-server: " + line);
    return 1;
  }

  /**
   * Embedded defaults, then the config file, then the flags. The data and plugins directories come
   * out absolute: the defaults and relative paths of the config file resolve against the
   * installation directory ({@value ConfigFile#HOME_PROPERTY}, set by bin/esmp-server; the current directory
   * without it), relative flags against the current directory, as for any command.
   */
  ServerConfig resolve() {
    ServerConfig.Builder builder = ConfigFile.installation(System.getProperty(ConfigFile.HOME_PROPERTY), config);
    if (port != null) {
      builder.port(port);
    }
    if (bind != null) {
      builder.bind(bind);
    }
    if (domain != null) {
      builder.domain(domain);
    }
    if (dataDir != null) {
      builder.dataDir(dataDir.toAbsolutePath());
    }
    if (pluginsDir != null) {
      builder.pluginsDir(pluginsDir.toAbsolutePath());
    }
    if (registration != null) {
      builder.registration(ConfigFile.registration("--registration", registration));
    }
    if (tlsCert != null) {
      builder.tlsCert(tlsCert);
    }
    if (tlsKey != null) {
      builder.tlsKey(tlsKey);
    }
    for (String peer : peers) {
      builder.peer(ServerConfig.Peer.parse(peer));
    }
    if (storage != null) {
      builder.storage(storage);
    }
    if (jdbcUrl != null) {
      builder.pluginSetting(ServerConfig.POSTGRES_PLUGIN, "jdbc_url", jdbcUrl);
    }
    if (dbUser != null) {
      builder.pluginSetting(ServerConfig.POSTGRES_PLUGIN, "user", dbUser);
    }
    if (dbPasswordFile != null) {
      builder.pluginSetting(ServerConfig.POSTGRES_PLUGIN, "password_file", dbPasswordFile.toAbsolutePath().toString());
    }
    if (metricsPort != null) {
      builder.metricsPort(metricsPort);
    }
    return builder.build();
  }

  /** The version from the jar manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = Main.class.getPackage().getImplementationVersion();
      return new String[] {"esmp-server " + (version == null ? "(development build)" : version), "protocol esmp/1"};
    }
  }

  /** For tests: the flags as parsed, resolved into a configuration. */
  static ServerConfig resolve(List<String> args) {
    Main main = new Main();
    new CommandLine(main).parseArgs(args.toArray(String[]::new));
    return main.resolve();
  }
}
