package org.esmp.server;

import java.io.PrintWriter;
import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.esmp.server.config.ConfigException;
import org.esmp.server.config.ConfigFile;
import org.esmp.server.config.ServerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code esmp-server}: reads the configuration (embedded defaults, then the config file, then
 * flags), starts the server and runs until stopped. Bad configuration is one line on stderr and
 * exit code 2; a server that cannot start is one line and exit code 1.
 */
@Command(
    name = "esmp-server",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    subcommands = AddUserCommand.class,
    sortOptions = false,
    description = "Serves ESMP/1 on TCP. Settings come from the embedded defaults, then the config file, then these flags.")
public final class Main implements Callable<Integer> {

  /** System property naming the installation folder; bin/esmp-server sets it. */
  static final String HOME_PROPERTY = "esmp.home";

  private static final Logger log = LoggerFactory.getLogger(Main.class);

  @Option(names = "--port", paramLabel = "PORT", description = "TCP port (default 5888)")
  Integer port;

  @Option(names = "--bind", paramLabel = "HOST", description = "address to listen on (default 0.0.0.0)")
  String bind;

  @Option(names = "--domain", paramLabel = "NAME", description = "the domain this server serves (default localhost)")
  String domain;

  @Option(names = "--data-dir", paramLabel = "DIR", description = "where durable state lives (default ./data)")
  Path dataDir;

  @Option(names = "--plugins-dir", paramLabel = "DIR",
      description = "where plugin jars are loaded from (default <esmp.home>/plugins, else ./plugins)")
  Path pluginsDir;

  @Option(names = "--registration", paramLabel = "open|closed",
      description = "whether auth may register new addresses (default open)")
  String registration;

  @Option(names = "--config", paramLabel = "FILE",
      description = "YAML settings (default <esmp.home>/conf/esmp.yaml when it exists)")
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
    EsmpServer server;
    try {
      server = EsmpServer.start(serverConfig);
    } catch (BindException e) {
      return startFailed("cannot listen on " + serverConfig.bind() + ":" + serverConfig.port() + ": " + e.getMessage(), e);
    } catch (Exception e) {
      return startFailed("cannot start: " + e.getMessage(), e);
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.close();
      stopped.countDown();
    }, "esmp-shutdown"));
    stopped.await();
    return 0;
  }

  private static int startFailed(String line, Exception e) {
    log.debug("Start failed", e);
    System.err.println("esmp-server: " + line);
    return 1;
  }

  /** Embedded defaults, then the config file, then the flags. */
  ServerConfig resolve() {
    ServerConfig.Builder builder = ServerConfig.builder();
    String home = System.getProperty(HOME_PROPERTY);
    if (home != null) {
      builder.pluginsDir(Path.of(home, "plugins"));
    }
    Path file = config;
    if (file == null && home != null && Files.isRegularFile(Path.of(home, "conf", "esmp.yaml"))) {
      file = Path.of(home, "conf", "esmp.yaml");
    }
    if (file != null) {
      ConfigFile.apply(file, builder);
    }
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
      builder.dataDir(dataDir);
    }
    if (pluginsDir != null) {
      builder.pluginsDir(pluginsDir);
    }
    if (registration != null) {
      builder.registration(ConfigFile.registration("--registration", registration));
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
