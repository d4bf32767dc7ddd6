package org.esmp.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.esmp.server.config.ConfigException;
import org.esmp.server.config.ConfigFile;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.data.OwnerOnly;
import org.esmp.server.tls.PemKeyPair;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {

  @TempDir Path dir;

  @Test
  void flagsOverrideTheConfigFile() throws Exception {
    Path file = dir.resolve("esmp.yaml");
    Files.writeString(file, "port: 6000\ndomain: example.com\nregistration: closed\n");
    ServerConfig config = Main.resolve(List.of("--config", file.toString(), "--port", "7000",
        "--data-dir", "/tmp/d", "--plugins-dir", "/tmp/p"));
    assertEquals(7000, config.port());
    assertEquals("example.com", config.domain());
    assertEquals(ServerConfig.Registration.CLOSED, config.registration());
    assertEquals(Path.of("/tmp/d"), config.dataDir());
    assertEquals(Path.of("/tmp/p"), config.pluginsDir());
  }

  @Test
  void tlsFlagsTurnTlsOnAndRequireIt() {
    ServerConfig config = Main.resolve(List.of("--tls-cert", "/etc/esmp/fullchain.pem", "--tls-key", "/etc/esmp/privkey.pem"));
    assertEquals(Path.of("/etc/esmp/fullchain.pem"), config.tls().cert());
    assertEquals(Path.of("/etc/esmp/privkey.pem"), config.tls().key());
    assertTrue(config.tls().required());
    assertThrows(ConfigException.class, () -> Main.resolve(List.of("--tls-cert", "/etc/esmp/fullchain.pem")));
  }

  @Test
  void storageAndDatabaseFlagsOverTheFileBecomeThePostgresPluginsSettings() throws Exception {
    Path file = dir.resolve("esmp.yaml");
    Files.writeString(file, "storage: mapdb\njdbc_url: jdbc:postgresql://old/esmp\ndb_pool_size: 4\n"
        + "db_password_file: secret.txt\nplugin_settings:\n  my-plugin: {colour: blue, size: 3}\n");
    ServerConfig config = Main.resolve(List.of("--config", file.toString(), "--storage", "postgres",
        "--jdbc-url", "jdbc:postgresql://db1,db2/esmp?targetServerType=primary", "--db-user", "esmp"));
    assertEquals(Optional.of("storage-postgres"), config.storagePlugin());
    assertEquals(Map.of("jdbc_url", "jdbc:postgresql://db1,db2/esmp?targetServerType=primary", "user", "esmp",
        "pool_size", "4", "password_file", Path.of("").toAbsolutePath().resolve("secret.txt").toString()),
        config.settingsOf("storage-postgres"));
    assertEquals(Map.of("colour", "blue", "size", "3"), config.settingsOf("my-plugin"));
    assertEquals(Map.of(), config.settingsOf("nobody"));
    assertEquals(dir.resolve("pw").toAbsolutePath().toString(), Main.resolve(List.of("--storage", "postgres",
        "--db-password-file", dir.resolve("pw").toString())).settingsOf("storage-postgres").get("password_file"));
    assertThrows(ConfigException.class, () -> Main.resolve(List.of("--storage", "Postgres!")));
    assertEquals(Optional.empty(), Main.resolve(List.of()).storagePlugin(), "none chosen: the one installed");
  }

  @Test
  void aCertificateThatCannotBeReadExitsWithCodeTwo() throws Exception {
    Files.writeString(dir.resolve("cert.pem"), "not a certificate");
    Files.writeString(dir.resolve("key.pem"), "not a key");
    assertEquals(2, Main.run(new String[] {"--port", "0", "--data-dir", dir.resolve("data").toString(),
        "--plugins-dir", dir.resolve("plugins").toString(), "--tls-cert", dir.resolve("cert.pem").toString(),
        "--tls-key", dir.resolve("key.pem").toString()}));
    assertFalse(Files.exists(dir.resolve("data")), "found before the data directory is opened");
  }

  @Test
  void tlsSelfSignedWritesAPairTheServerAccepts() throws Exception {
    Path out = dir.resolve("tls");
    assertEquals(0, Main.run(new String[] {"tls-selfsigned", "--domain", "example.com", "--out", out.toString()}));
    Path cert = out.resolve("example.com.crt");
    Path key = out.resolve("example.com.key");
    PemKeyPair pair = PemKeyPair.read(cert, key);
    assertEquals("CN=example.com", pair.chain().get(0).getSubjectX500Principal().getName());
    if (OwnerOnly.posix(key)) {
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
    }
    // Never over an existing pair.
    assertEquals(1, Main.run(new String[] {"tls-selfsigned", "--domain", "example.com", "--out", out.toString()}));
    assertEquals(pair.chain(), PemKeyPair.read(cert, key).chain());
  }

  @Test
  void theDefaultDataDirectoryIsInTheInstallationDirectoryWhateverTheCurrentOne() throws Exception {
    Path home = Files.createDirectories(dir.resolve("home"));
    ServerConfig config = withHome(home, List.of());
    assertEquals(home.resolve("data"), config.dataDir());
    assertEquals(home.resolve("plugins"), config.pluginsDir());
    assertTrue(config.dataDir().isAbsolute());
    assertNull(config.configFile(), "no conf/esmp.yaml there");
  }

  @Test
  void relativePathsInTheConfigFileResolveAgainstTheInstallationDirectory() throws Exception {
    Path home = Files.createDirectories(dir.resolve("home"));
    Files.createDirectories(home.resolve("conf"));
    Files.writeString(home.resolve("conf/esmp.yaml"), "data_dir: store\nplugins_dir: more/plugins\n");
    ServerConfig config = withHome(home, List.of());
    assertEquals(home.resolve("store"), config.dataDir());
    assertEquals(home.resolve("more/plugins"), config.pluginsDir());
    assertEquals(home.resolve("conf/esmp.yaml"), config.configFile());

    Files.writeString(home.resolve("conf/esmp.yaml"), "data_dir: /var/lib/esmp\n");
    assertEquals(Path.of("/var/lib/esmp"), withHome(home, List.of()).dataDir(), "an absolute one stays");
  }

  @Test
  void relativeFlagsResolveAgainstTheCurrentDirectory() throws Exception {
    Path home = Files.createDirectories(dir.resolve("home"));
    ServerConfig config = withHome(home, List.of("--data-dir", "here", "--plugins-dir", "there"));
    assertEquals(Path.of("here").toAbsolutePath(), config.dataDir());
    assertEquals(Path.of("there").toAbsolutePath(), config.pluginsDir());
  }

  @Test
  void withoutAnInstallationDirectoryTheCurrentDirectoryIsTheBase() {
    assertNull(System.getProperty(ConfigFile.HOME_PROPERTY), "the tests run without bin/esmp-server");
    ServerConfig config = Main.resolve(List.of());
    assertEquals(Path.of("data").toAbsolutePath(), config.dataDir());
    assertEquals(Path.of("plugins").toAbsolutePath(), config.pluginsDir());
  }

  /** Resolves {@code args} as bin/esmp-server of an installation in {@code home} would. */
  private static ServerConfig withHome(Path home, List<String> args) {
    System.setProperty(ConfigFile.HOME_PROPERTY, home.toString());
    try {
      return Main.resolve(args);
    } finally {
      System.clearProperty(ConfigFile.HOME_PROPERTY);
    }
  }

  @Test
  void printServerKeyPrintsTheKeyHelloAnnouncesAndExits() throws Exception {
    Path data = dir.resolve("data");
    java.io.ByteArrayOutputStream printed = new java.io.ByteArrayOutputStream();
    java.io.PrintStream stdout = System.out;
    System.setOut(new java.io.PrintStream(printed, true, java.nio.charset.StandardCharsets.UTF_8));
    try {
      assertEquals(0, Main.run(new String[] {"--data-dir", data.toString(), "--print-server-key"}));
      assertEquals(0, Main.run(new String[] {"--data-dir", data.toString(), "--print-server-key"}));
    } finally {
      System.setOut(stdout);
    }
    String key = org.esmp.server.federation.ServerKey.read(data.resolve("server.key")).publicKeyBase64();
    assertEquals(key + "\n" + key + "\n", printed.toString(java.nio.charset.StandardCharsets.UTF_8),
        "made once, in the data directory, and printed alone");
  }

  @Test
  void badFlagValueExitsWithCodeTwo() {
    assertEquals(2, Main.run(new String[] {"--port", "notanumber"}));
    assertEquals(2, Main.run(new String[] {"--domain", "Not A Domain"}));
    assertEquals(2, Main.run(new String[] {"--no-such-flag"}));
  }

  @Test
  void invalidDomainIsAConfigError() {
    assertThrows(ConfigException.class, () -> Main.resolve(List.of("--domain", "UPPER.example")));
  }

  @Test
  void aDataDirectoryItCannotUseExitsWithCodeTwo() throws Exception {
    Path file = Files.writeString(dir.resolve("data"), "a file, not a directory");
    assertEquals(2, Main.run(new String[] {"--port", "0", "--data-dir", file.toString(),
        "--plugins-dir", dir.resolve("plugins").toString()}));
    assertEquals(2, Main.run(new String[] {"--port", "0", "--data-dir", file.resolve("below").toString(),
        "--plugins-dir", dir.resolve("plugins").toString()}));
  }

  @Test
  void metricsPortFlagOverridesTheConfigFile() throws Exception {
    Path file = dir.resolve("esmp.yaml");
    Files.writeString(file, "metrics_port: 9100\nmetrics_bind: 10.0.0.5\n");
    ServerConfig config = Main.resolve(List.of("--config", file.toString(), "--metrics-port", "9200"));
    assertEquals(new ServerConfig.Metrics(true, 9200, "10.0.0.5"), config.metrics());
    assertEquals(false, Main.resolve(List.of("--config", file.toString(), "--metrics-port", "0")).metrics().enabled(),
        "--metrics-port 0 turns it off");
    assertEquals(false, Main.resolve(List.of()).metrics().enabled(), "off by default");
    assertEquals(2, Main.run(new String[] {"--metrics-port", "65536"}));
  }
}
