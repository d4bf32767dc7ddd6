package org.esmp.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigFileTest {

  @TempDir Path dir;

  private ServerConfig load(String yaml) throws IOException {
    Path file = dir.resolve("esmp.yaml");
    Files.writeString(file, yaml);
    ServerConfig.Builder builder = ServerConfig.builder();
    ConfigFile.apply(file, builder, Path.of(""));
    return builder.build();
  }

  @Test
  void embeddedDefaultsAreThoseOfTheSpec() throws IOException {
    ServerConfig config = load("# nothing set\n");
    assertEquals(5888, config.port());
    assertEquals("localhost", config.domain());
    assertEquals(Path.of("data"), config.dataDir());
    assertEquals(65536, config.maxFrame());
    assertEquals(64, config.maxDepth());
    assertEquals(Duration.ofMinutes(15), config.tsSkew());
    assertEquals(ServerConfig.Registration.OPEN, config.registration());
    assertEquals(Duration.ofSeconds(5), config.pluginTimeout());
    assertEquals(Duration.ofSeconds(60), config.pluginAnswerTimeout());
    assertEquals(16, config.maxKeysPerAddress());
    assertEquals(1000, config.maxGroupMembers());
    assertEquals(10_000, config.maxConnections());
    assertEquals(100, config.maxConnectionsPerIp());
    assertEquals(32, config.maxConnectionsPerAddress());
    assertEquals(Duration.ofSeconds(30), config.firstMessageTimeout());
    assertEquals(Duration.ofSeconds(30), config.lineTimeout());
    assertEquals(Duration.ofSeconds(300), config.idleUnsyncedTimeout());
    assertEquals(200, config.ipFramesPerSecond());
    assertEquals(400, config.ipFramesBurst());
    assertEquals(1024 * 1024, config.ipBytesPerSecond());
    assertEquals(2 * 1024 * 1024, config.ipBytesBurst());
    assertEquals(50, config.addressMessagesPerSecond());
    assertEquals(100, config.addressMessagesBurst());
    assertEquals(20, config.registrationsPerIpPerHour());
    assertEquals(10, config.keyChangesPerAddressPerHour());
    assertEquals(Set.of("postmaster", "admin", "administrator", "root", "abuse", "security", "hostmaster",
        "webmaster", "support", "noreply"), config.reservedNames());
  }

  @Test
  void readsEverySetting() throws IOException {
    ServerConfig config = load("""
        port: 6000
        bind: 127.0.0.1
        domain: example.com
        domains: [example.org]
        data_dir: /var/lib/esmp
        plugins_dir: /opt/esmp/plugins
        max_frame: 1024
        max_depth: 10
        ts_skew_seconds: 60
        registration: closed
        ping_interval_seconds: 0
        verify_threads: 3
        plugin_timeout_seconds: 20
        plugin_answer_timeout_seconds: 90
        max_keys_per_address: 4
        reserved_names: [staff, help-desk]
        max_group_members: 50
        max_connections: 500
        max_connections_per_ip: 20
        max_connections_per_address: 5
        first_message_seconds: 10
        line_seconds: 15
        idle_unsynced_seconds: 120
        ip_frames_per_second: 10
        ip_frames_burst: 20
        ip_bytes_per_second: 5000
        ip_bytes_burst: 8000
        address_messages_per_second: 3
        address_messages_burst: 6
        registrations_per_ip_per_hour: 2
        key_changes_per_address_per_hour: 7
        output_connection_bytes: 2000000
        output_total_bytes: 6000000000
        output_grace_seconds: 2
        input_total_bytes: 3000000
        """);
    assertEquals(6000, config.port());
    assertEquals("127.0.0.1", config.bind());
    assertEquals(List.of("example.com", "example.org"), config.domains());
    assertEquals(Path.of("/var/lib/esmp"), config.dataDir());
    assertEquals(Path.of("/opt/esmp/plugins"), config.pluginsDir());
    assertEquals(1024, config.maxFrame());
    assertEquals(10, config.maxDepth());
    assertEquals(Duration.ofSeconds(60), config.tsSkew());
    assertEquals(ServerConfig.Registration.CLOSED, config.registration());
    assertEquals(Duration.ZERO, config.pingInterval());
    assertEquals(3, config.verifyThreads());
    assertEquals(Duration.ofSeconds(20), config.pluginTimeout());
    assertEquals(Duration.ofSeconds(90), config.pluginAnswerTimeout());
    assertEquals(4, config.maxKeysPerAddress());
    assertEquals(Set.of("staff", "help-desk"), config.reservedNames());
    assertEquals(50, config.maxGroupMembers());
    assertEquals(500, config.maxConnections());
    assertEquals(20, config.maxConnectionsPerIp());
    assertEquals(5, config.maxConnectionsPerAddress());
    assertEquals(Duration.ofSeconds(10), config.firstMessageTimeout());
    assertEquals(Duration.ofSeconds(15), config.lineTimeout());
    assertEquals(Duration.ofSeconds(120), config.idleUnsyncedTimeout());
    assertEquals(10, config.ipFramesPerSecond());
    assertEquals(20, config.ipFramesBurst());
    assertEquals(5000, config.ipBytesPerSecond());
    assertEquals(8000, config.ipBytesBurst());
    assertEquals(3, config.addressMessagesPerSecond());
    assertEquals(6, config.addressMessagesBurst());
    assertEquals(2, config.registrationsPerIpPerHour());
    assertEquals(7, config.keyChangesPerAddressPerHour());
    assertEquals(2_000_000L, config.outputConnectionBytes());
    assertEquals(6_000_000_000L, config.outputTotalBytes(), "budgets may pass 2 GiB");
    assertEquals(Duration.ofSeconds(2), config.outputGrace());
    assertEquals(3_000_000L, config.inputTotalBytes());
    assertTrue(config.reserves("staff"));
    assertFalse(config.reserves("admin"), "a list given replaces the defaults");
  }

  @Test
  void tlsIsOffByDefaultAndRequiredOnceACertificateIsConfigured() throws IOException {
    assertFalse(load("").tls().enabled());
    ServerConfig.Tls tls = load("tls_cert: /etc/esmp/fullchain.pem\ntls_key: /etc/esmp/privkey.pem\n"
        + "tls_reload_seconds: 30\ntls_detect_millis: 800\n").tls();
    assertTrue(tls.enabled());
    assertTrue(tls.required());
    assertEquals(Path.of("/etc/esmp/fullchain.pem"), tls.cert());
    assertEquals(Path.of("/etc/esmp/privkey.pem"), tls.key());
    assertEquals(Duration.ofSeconds(30), tls.reloadInterval());
    assertEquals(Duration.ofMillis(800), tls.detectTimeout());
    assertFalse(load("tls_cert: a.pem\ntls_key: b.pem\nrequire_tls: false\n").tls().required());
  }

  @Test
  void refusesHalfATlsPairAndBadTlsValuesNamingTheKey() {
    Map<String, String> keyOf = Map.of(
        "tls_cert: a.pem\n", "tls_key",
        "tls_key: b.pem\n", "tls_cert",
        "require_tls: true\n", "require_tls",
        "tls_cert: a.pem\ntls_key: b.pem\nrequire_tls: yes please\n", "require_tls",
        "tls_cert: a.pem\ntls_key: b.pem\ntls_reload_seconds: 0\n", "tls_reload_seconds",
        "tls_cert: a.pem\ntls_key: b.pem\ntls_detect_millis: 5\n", "tls_detect_millis");
    keyOf.forEach((yaml, key) -> {
      ConfigException refused = assertThrows(ConfigException.class, () -> load(yaml), yaml);
      assertTrue(refused.getMessage().contains(key), key + ": " + refused.getMessage());
    });
  }

  @Test
  void refusesBadConnectionLimitsAndDeadlinesNamingTheKey() {
    Map<String, String> keyOf = Map.of(
        "max_connections: 0\n", "max_connections",
        "max_connections_per_ip: 0\n", "max_connections_per_ip",
        "max_connections: 10\nmax_connections_per_ip: 11\n", "max_connections_per_ip",
        "first_message_seconds: 0\n", "first_message_seconds",
        "line_seconds: -1\n", "line_seconds",
        "idle_unsynced_seconds: 86401\n", "idle_unsynced_seconds");
    keyOf.forEach((yaml, key) -> {
      ConfigException refused = assertThrows(ConfigException.class, () -> load(yaml), yaml);
      assertTrue(refused.getMessage().contains(key), key + ": " + refused.getMessage());
    });
  }

  @Test
  void refusesMemoryBudgetsThatCouldNotHoldAFrameNamingTheKey() {
    Map<String, String> keyOf = Map.of(
        "max_frame: 4096\noutput_connection_bytes: 4095\n", "output_connection_bytes",
        "output_connection_bytes: 20000000\noutput_total_bytes: 19999999\n", "output_total_bytes",
        "output_grace_seconds: 0\n", "output_grace_seconds",
        "max_frame: 4096\ninput_total_bytes: 16383\n", "input_total_bytes",
        "input_total_bytes: 1.5e9\n", "input_total_bytes");
    keyOf.forEach((yaml, key) -> {
      ConfigException refused = assertThrows(ConfigException.class, () -> load(yaml), yaml);
      assertTrue(refused.getMessage().contains(key), key + ": " + refused.getMessage());
    });
  }

  @Test
  void anEmptyReservedListReservesNothing() throws IOException {
    assertEquals(Set.of(), load("reserved_names: []\n").reservedNames());
  }

  @Test
  void refusesBadKeyLimitsAndReservedNamesNamingTheKey() {
    ConfigException zero = assertThrows(ConfigException.class, () -> load("max_keys_per_address: 0\n"));
    assertTrue(zero.getMessage().contains("max_keys_per_address"), zero.getMessage());
    ConfigException upper = assertThrows(ConfigException.class, () -> load("reserved_names: [Admin]\n"));
    assertTrue(upper.getMessage().contains("reserved_names") && upper.getMessage().contains("'Admin'"),
        upper.getMessage());
    assertThrows(ConfigException.class, () -> load("reserved_names: [\"a#b\"]\n"));
    assertThrows(ConfigException.class, () -> load("reserved_names: admin\n"));
  }

  @Test
  void refusesRateLimitsBelowOneNamingTheKey() {
    for (String key : List.of("ip_frames_per_second", "ip_frames_burst", "ip_bytes_per_second", "ip_bytes_burst",
        "address_messages_per_second", "address_messages_burst", "registrations_per_ip_per_hour",
        "key_changes_per_address_per_hour")) {
      ConfigException zero = assertThrows(ConfigException.class, () -> load(key + ": 0\n"), key);
      assertTrue(zero.getMessage().contains(key), zero.getMessage());
    }
  }

  @Test
  void refusesAByteBurstThatAFrameOfMaxFrameBytesCouldNeverPass() throws IOException {
    ConfigException small = assertThrows(ConfigException.class,
        () -> load("max_frame: 4096\nip_bytes_burst: 4095\n"));
    assertTrue(small.getMessage().contains("ip_bytes_burst") && small.getMessage().contains("max_frame"),
        small.getMessage());
    load("max_frame: 4096\nip_bytes_burst: 4096\n"); // just enough: no exception
  }

  @Test
  void refusesARetentionThatAReplayWithinTheSkewCouldOutlive() throws IOException {
    ConfigException close = assertThrows(ConfigException.class,
        () -> load("retention_days: 1\nts_skew_seconds: 43200\n"));
    assertTrue(close.getMessage().contains("retention_days") && close.getMessage().contains("ts_skew_seconds"),
        close.getMessage());
    load("retention_days: 1\nts_skew_seconds: 43199\n"); // just within: no exception
  }

  @Test
  void refusesAnUnknownKeyNamingIt() {
    ConfigException e = assertThrows(ConfigException.class, () -> load("prot: 6000\n"));
    assertTrue(e.getMessage().contains("unknown setting 'prot'"), e.getMessage());
  }

  @Test
  void refusesValuesOfTheWrongKind() {
    assertThrows(ConfigException.class, () -> load("port: many\n"));
    assertThrows(ConfigException.class, () -> load("port: 70000\n"));
    assertThrows(ConfigException.class, () -> load("domain: Example.COM\n"));
    assertThrows(ConfigException.class, () -> load("registration: sometimes\n"));
    assertThrows(ConfigException.class, () -> load("domains: example.org\n"));
    assertThrows(ConfigException.class, () -> load("port: [1\n"));
    assertThrows(ConfigException.class, () -> load("plugin_timeout_seconds: 0\n"));
    assertThrows(ConfigException.class, () -> load("plugin_timeout_seconds: 10\nplugin_answer_timeout_seconds: 5\n"));
  }

  @Test
  void refusesAMissingFile() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> ConfigFile.apply(dir.resolve("nope.yaml"), ServerConfig.builder(), Path.of("")));
    assertTrue(e.getMessage().contains("no such file"), e.getMessage());
  }

  @Test
  void theMetricsPortIsOffByDefaultAndOnLoopbackWhenSet() throws IOException {
    ServerConfig.Metrics none = load("# nothing set\n").metrics();
    assertFalse(none.enabled());
    assertEquals("127.0.0.1", none.bind());
    ServerConfig.Metrics on = load("metrics_port: 9100\n").metrics();
    assertTrue(on.enabled());
    assertEquals(9100, on.port());
    assertEquals("127.0.0.1", on.bind());
  }

  @Test
  void readsTheMetricsSettings() throws IOException {
    ServerConfig.Metrics metrics = load("metrics_port: 9100\nmetrics_bind: 10.0.0.5\n").metrics();
    assertEquals(new ServerConfig.Metrics(true, 9100, "10.0.0.5"), metrics);
    assertFalse(load("metrics_port: 0\nmetrics_bind: 10.0.0.5\n").metrics().enabled(), "metrics_port 0 is off");
  }

  @Test
  void refusesBadMetricsSettings() {
    assertThrows(ConfigException.class, () -> load("metrics_port: 70000\n"));
    assertThrows(ConfigException.class, () -> load("metrics_port: -1\n"));
    assertThrows(ConfigException.class, () -> load("metrics_port: nine\n"));
    assertThrows(ConfigException.class, () -> load("metrics_bind: \"\"\n"));
    ConfigException same = assertThrows(ConfigException.class, () -> load("port: 6000\nmetrics_port: 6000\n"));
    assertTrue(same.getMessage().contains("metrics_port must differ from port"), same.getMessage());
  }
}
