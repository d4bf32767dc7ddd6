package org.esmp.server.admin.cli;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.file.Path;
import org.esmp.server.EsmpServer;
import org.esmp.server.backup.BackupException;
import org.esmp.server.config.ConfigException;
import org.esmp.server.config.ConfigFile;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code esmp-admin}: administers the server running on a data directory, through its
 * administration socket there ({@code <data-dir>/admin.sock}; never the public port): users,
 * groups, plugins, and the online backup; and restores a backup into a new data directory, with
 * no server running.
 *
 * <p>The data directory is found as the server finds it: {@code --data-dir}, else {@code data_dir}
 * of {@code --config FILE} (or of {@code <esmp.home>/conf/esmp.yaml}, in the distribution), else
 * {@code data/} of the installation ({@code ./data} outside one). Exit codes: 0 done, 1 failed (one {@code esmp-admin: ...} line on stderr), 2 bad
 * usage or configuration.
 *
 * <p>One command line at a time; {@link #run} builds its own command objects, so tests call it
 * repeatedly.
 */
// scope INHERIT: every subcommand, at any depth, takes -h/--help, -V/--version, --data-dir and --config.
@Command(name = "esmp-admin", mixinStandardHelpOptions = true, versionProvider = EsmpAdmin.Version.class,
    scope = ScopeType.INHERIT, sortOptions = false,
    description = "Administers a running ESMP server through the socket in its data directory: users, groups, "
        + "plugins, online backup; and restores a backup into a new data directory.",
    subcommands = {UsersCommand.class, GroupsCommand.class, PluginsCommand.class, BackupCommand.class,
        RestoreCommand.class})
public final class EsmpAdmin implements Runnable {

  @Option(names = "--data-dir", paramLabel = "DIR", scope = ScopeType.INHERIT,
      description = "the server's data directory (default: data_dir of the configuration, else data/ of the installation)")
  Path dataDir;

  @Option(names = "--config", paramLabel = "FILE", scope = ScopeType.INHERIT,
      description = "the server's YAML settings, for data_dir (default <esmp.home>/conf/esmp.yaml when it exists)")
  Path config;

  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "which command?");
  }

  public static void main(String[] args) {
    System.exit(run(new PrintWriter(new OutputStreamWriter(System.out, UTF_8), true),
        new PrintWriter(new OutputStreamWriter(System.err, UTF_8), true), args));
  }

  /** Runs one command line with the given streams and returns the exit code. */
  public static int run(PrintWriter out, PrintWriter err, String... args) {
    CommandLine cli = new CommandLine(new EsmpAdmin());
    cli.setOut(out);
    cli.setErr(err);
    cli.setParameterExceptionHandler((e, ignored) -> {
      e.getCommandLine().getErr().println("esmp-admin: " + e.getMessage() + " (see "
          + e.getCommandLine().getCommandSpec().qualifiedName() + " --help)");
      e.getCommandLine().getErr().flush();
      return 2;
    });
    cli.setExecutionExceptionHandler((e, commandLine, parsed) -> {
      commandLine.getErr().println("esmp-admin: " + describe(e));
      commandLine.getErr().flush();
      return e instanceof ConfigException ? 2 : 1;
    });
    int code = cli.execute(args);
    out.flush();
    err.flush();
    return code;
  }

  private static String describe(Exception e) {
    if (e instanceof AdminFailure || e instanceof BackupException || e instanceof ConfigException) {
      return e.getMessage();
    }
    return e.getMessage() != null ? e.getMessage() : e.toString();
  }

  /**
   * The data directory: {@code --data-dir}, else {@code data_dir} of the configuration file, else
   * the server's default.
   *
   * @throws ConfigException when the configuration file is bad
   */
  Path dataDir() {
    if (dataDir != null) {
      return dataDir.toAbsolutePath();
    }
    return ConfigFile.installation(System.getProperty(ConfigFile.HOME_PROPERTY), config).build().dataDir();
  }

  /** A connection to the server running on the data directory. */
  AdminClient connect() {
    return AdminClient.connect(dataDir());
  }

  /** {@code --version}: the server jar's version. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"esmp-admin " + EsmpServer.version()};
    }
  }
}
