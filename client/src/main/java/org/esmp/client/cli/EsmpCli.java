package org.esmp.client.cli;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.esmp.client.EsmpClient;
import org.esmp.client.Identity;
import org.esmp.client.ServerException;
import org.esmp.client.Tls;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code esmp}, the command-line client. Global options come before the command:
 * {@code esmp --server HOST:PORT --identity FILE [--tls [--tls-ca FILE | --tls-pin SHA256]] COMMAND ...}. Exit codes: 0 done, 1 failed (a
 * server error, a refused delivery, no connection, a timeout), 2 bad usage. Each command is its
 * own class ({@link KeygenCommand}, {@link SendCommand}, {@link GroupCommand}, …); this one holds
 * the global options, connects for them, and turns a failure into one {@code esmp: …} line.
 *
 * <p>One command line runs at a time on the calling thread; {@link #run} may be called again
 * (tests do) since each call builds its own command objects.
 */
// scope INHERIT: every subcommand, at any depth, takes -h/--help and -V/--version too.
@Command(name = "esmp", mixinStandardHelpOptions = true, versionProvider = EsmpCli.Version.class,
    scope = CommandLine.ScopeType.INHERIT,
    description = "ESMP/1 command-line client: keys, messages, mailbox, groups.",
    subcommands = {KeygenCommand.class, RegisterCommand.class, SendCommand.class,
        ListenCommand.class, GroupCommand.class, LookupCommand.class, HelpCommand.class})
public final class EsmpCli implements Runnable {

  @Option(names = "--server", paramLabel = "HOST:PORT", defaultValue = "localhost:5888",
      description = "server to talk to (default: ${DEFAULT-VALUE})")
  String server;

  @Option(names = "--identity", paramLabel = "FILE",
      defaultValue = "${sys:user.home}/.esmp/identity.json",
      description = "identity file: key, address, cursor (default: ${DEFAULT-VALUE})")
  Path identity;

  @Option(names = "--tls", description = "speak TLS to the server, trusting the system's CAs (or --tls-ca / --tls-pin)")
  boolean tls;

  @Option(names = "--tls-ca", paramLabel = "FILE",
      description = "with TLS, trust the certificates in this PEM file (a CA, or the server's self-signed one)")
  Path tlsCa;

  @Option(names = "--tls-pin", paramLabel = "SHA256",
      description = "with TLS, trust only the server certificate with this SHA-256 fingerprint (hex, colons optional)")
  String tlsPin;

  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "which command? (see esmp --help)");
  }

  public static void main(String[] args) {
    System.exit(run(new PrintWriter(new OutputStreamWriter(System.out, UTF_8), true),
        new PrintWriter(new OutputStreamWriter(System.err, UTF_8), true), args));
  }

  /** Runs one command line with the given streams and returns the exit code. */
  public static int run(PrintWriter out, PrintWriter err, String... args) {
    CommandLine cli = new CommandLine(new EsmpCli());
    cli.setOut(out);
    cli.setErr(err);
    cli.setExecutionExceptionHandler((e, commandLine, parsed) -> {
      commandLine.getErr().println("esmp: " + describe(e));
      commandLine.getErr().flush();
      return 1;
    });
    int code = cli.execute(args);
    out.flush();
    err.flush();
    return code;
  }

  private static String describe(Exception e) {
    if (e instanceof ServerException s) {
      String said = "server error " + s.code() + ": " + s.getMessage().substring(s.code().length() + 2);
      // The first thing a new user meets: a key the server does not know.
      return s.code().equals("unknown_sender")
          ? said + " (is the identity's address registered with this key? esmp register)" : said;
    }
    if (e instanceof FileAlreadyExistsException f) {
      return f.getFile() + " already exists; not overwriting an identity";
    }
    if (e instanceof NoSuchFileException f) {
      return "no identity file " + f.getFile() + " (create one with: esmp keygen ADDRESS)";
    }
    if (e instanceof ConnectException) {
      return "cannot connect: " + e.getMessage();
    }
    return e.getMessage() != null ? e.getMessage() : e.toString();
  }

  /** The identity file named by {@code --identity}. */
  Identity loadIdentity() throws IOException {
    return Identity.load(identity);
  }

  /** A client of the {@code --server}, as {@code me}; a bad {@code --server} is a usage error. */
  EsmpClient connect(Identity me, boolean autoReconnect) throws IOException {
    String host = server;
    int port = EsmpClient.DEFAULT_PORT;
    int colon = server.lastIndexOf(':');
    if (colon >= 0 && server.indexOf(']', colon) < 0) {
      host = server.substring(0, colon);
      try {
        port = Integer.parseInt(server.substring(colon + 1));
      } catch (NumberFormatException e) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "--server: not HOST:PORT: " + server);
      }
    }
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    Tls trust = tls();
    try {
      return EsmpClient.builder(me).server(host, port).tls(trust).autoReconnect(autoReconnect).connect();
    } catch (IOException e) {
      throw new IOException("cannot connect to " + server + ": " + e.getMessage(), e);
    }
  }

  /** The TLS options: null for plaintext; --tls-ca or --tls-pin mean TLS too. */
  private Tls tls() throws IOException {
    if (tlsCa != null && tlsPin != null) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--tls-ca and --tls-pin: one or the other");
    }
    if (tlsPin != null) {
      try {
        return Tls.pinned(tlsPin);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--tls-pin: " + e.getMessage());
      }
    }
    if (tlsCa != null) {
      return Tls.trusting(tlsCa);
    }
    return tls ? Tls.systemTrust() : null;
  }

  /** {@code --version}: the jar's Implementation-Version. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = EsmpCli.class.getPackage().getImplementationVersion();
      return new String[] {"esmp " + (v != null ? v : "(development)") + ", ESMP/1"};
    }
  }
}
