package org.esmp.server;

import java.io.PrintWriter;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.esmp.server.config.ConfigException;
import org.esmp.server.config.ConfigFile;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.tls.SelfSigned;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code esmp-server tls-selfsigned --domain D}: makes a self-signed certificate and key for the
 * domain, for local use and tests (a public server wants a certificate from a CA, e.g. Let's
 * Encrypt), and prints the flags that serve it and the fingerprint clients pin.
 */
@Command(
    name = "tls-selfsigned",
    mixinStandardHelpOptions = true,
    description = "Writes DIR/DOMAIN.crt and DIR/DOMAIN.key (owner-only), a self-signed EC P-256 certificate "
        + "for DOMAIN, localhost, 127.0.0.1 and ::1, and prints its SHA-256 fingerprint for esmp --tls-pin.")
final class TlsSelfSignedCommand implements Callable<Integer> {

  @ParentCommand Main server;

  @Spec CommandSpec spec;

  @Option(names = "--out", paramLabel = "DIR",
      description = "where to write the two files (default <esmp.home>/conf/tls, else ./tls)")
  Path out;

  @Option(names = "--days", paramLabel = "N", defaultValue = "365",
      description = "days the certificate is valid (default ${DEFAULT-VALUE})")
  int days;

  @Override
  public Integer call() throws Exception {
    ServerConfig config = server.resolve();
    if (days < 1 || days > 3650) {
      throw new ConfigException("--days must be 1-3650, got " + days);
    }
    Path dir = out;
    if (dir == null) {
      String home = System.getProperty(ConfigFile.HOME_PROPERTY);
      dir = home != null ? Path.of(home, "conf", "tls") : Path.of("tls");
    }
    Files.createDirectories(dir);
    Path cert = dir.resolve(config.domain() + ".crt").toAbsolutePath();
    Path key = dir.resolve(config.domain() + ".key").toAbsolutePath();
    SelfSigned pair = SelfSigned.create(config.domain(), Duration.ofDays(days));
    try {
      pair.write(cert, key);
    } catch (FileAlreadyExistsException e) {
      spec.commandLine().getErr().println("esmp-server: " + e.getFile() + " exists; not overwriting it");
      return 1;
    }
    PrintWriter printed = spec.commandLine().getOut();
    printed.println("wrote " + cert + " and " + key + " (self-signed for " + config.domain() + ", valid until "
        + pair.certificate().getNotAfter().toInstant() + ")");
    printed.println("SHA-256 fingerprint: " + pair.fingerprint());
    printed.println("serve it:   esmp-server --tls-cert " + cert + " --tls-key " + key);
    printed.println("clients:    esmp --tls --tls-pin " + pair.fingerprint() + " ...   (or --tls-ca " + cert + ")");
    printed.flush();
    return 0;
  }
}
