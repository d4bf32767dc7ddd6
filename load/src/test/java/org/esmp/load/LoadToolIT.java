package org.esmp.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.esmp.server.EsmpServer;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.tls.SelfSigned;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tool against the real server, started in this JVM with the bundled plugins and its rate
 * limits raised, at tiny sizes: every scenario runs to its end and reports sane numbers. Timing
 * claims are not checked here (docs/PERFORMANCE.md): only that the numbers exist and are positive.
 */
class LoadToolIT {

  private static final int UNLIMITED = 1_000_000_000;

  @TempDir Path data;
  @TempDir Path output;

  @Test
  @Timeout(120)
  void runsEveryScenarioAgainstARealServer() throws Exception {
    try (EsmpServer server = EsmpServer.start(config())) {
      Path json = output.resolve("report.json");
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();

      int code = LoadTool.run(new PrintWriter(out), new PrintWriter(err), "--port", Integer.toString(server.port()),
          "--connections", "4", "--messages", "400", "--warmup-messages", "100", "--seconds", "1",
          "--members", "5", "--senders", "1", "--fanout-posts", "100", "--warmup-posts", "10", "--rate", "100",
          "--idle-connections", "20", "--disk-members", "5", "--settle-seconds", "0.2", "--openssl-seconds", "1",
          "--server-pid", Long.toString(ProcessHandle.current().pid()), "--data-dir", data.toString(),
          "--json", json.toString());

      String said = "\n--- stdout ---\n" + out + "\n--- stderr ---\n" + err;
      assertEquals(0, code, said);
      JsonNode report = new ObjectMapper().readTree(Files.readString(json));
      assertEquals(List.of("direct", "fanout", "paced", "idle", "disk"),
          report.get("scenarios").findValuesAsText("name"), said);
      for (JsonNode scenario : report.get("scenarios")) {
        assertTrue(scenario.get("failure").isNull(), scenario.get("name") + " failed" + said);
        assertTrue(scenario.get("errors").isEmpty(), scenario.get("name") + " got error frames" + said);
      }
      assertPositive(report, "direct", "acked_per_second", "delivered_per_second", "ack_latency_p50_ms",
          "ack_latency_p999_ms", "half_rate_ack_latency_p99_ms");
      assertEquals(400, metric(report, "direct", "acked"), said);
      assertEquals(400, metric(report, "direct", "delivered"), said);
      assertPositive(report, "fanout", "deliveries_per_second", "posts_acked_per_second");
      assertEquals(500, metric(report, "fanout", "deliveries"), said); // 100 posts × 5 members
      assertPositive(report, "paced", "delivery_latency_p50_ms", "delivery_latency_p99_ms", "delivery_latency_p999_ms");
      assertEquals(500, metric(report, "paced", "delivery_latency_samples"), said); // 100 posts × 5 members
      assertEquals(20, metric(report, "idle", "idle_connections"), said);
      assertEquals(1, metric(report, "disk", "posts_acked"), said);
      assertPositive(report, "disk", "data_dir_growth_per_post_kib");
      if (Files.isReadable(Path.of("/proc/self/stat"))) { // the server's side, from /proc (Linux)
        assertPositive(report, "direct", "server_cpu_per_message_us", "server_peak_rss_mib");
        assertPositive(report, "fanout", "server_cpu_per_post_us");
        assertPositive(report, "disk", "write_bytes_per_post_kib");
        assertTrue(report.at("/scenarios/3/metrics/rss_per_connection_kib/value").isNumber(), said);
      }
      assertEquals(report.at("/openssl/available").asBoolean(),
          report.at("/openssl/verify_per_second_one_core").isNumber(), said);
      assertTrue(out.toString().contains("== disk:"), said);
    }
  }

  /** Over TLS (the server requires it): the connections handshake, and auth carries their binding. */
  @Test
  @Timeout(120)
  void runsTheDirectScenarioOverTls() throws Exception {
    SelfSigned pair = SelfSigned.create("example.com", Duration.ofDays(30));
    pair.write(output.resolve("cert.pem"), output.resolve("key.pem"));
    ServerConfig tls = ServerConfig.builder().bind("127.0.0.1").port(0).domain("example.com").dataDir(data)
        .pluginsDir(config().pluginsDir()).maxConnectionsPerIp(1_000).ipFramesPerSecond(UNLIMITED)
        .ipFramesBurst(UNLIMITED).ipBytesPerSecond(UNLIMITED).ipBytesBurst(UNLIMITED)
        .addressMessagesPerSecond(UNLIMITED).addressMessagesBurst(UNLIMITED).registrationsPerIpPerHour(UNLIMITED)
        .tls(output.resolve("cert.pem"), output.resolve("key.pem")).build();
    try (EsmpServer server = EsmpServer.start(tls)) {
      Path json = output.resolve("report.json");
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      int code = LoadTool.run(new PrintWriter(out), new PrintWriter(err), "--port", Integer.toString(server.port()),
          "--tls-pin", pair.fingerprint(), "--scenario", "direct", "--connections", "2", "--messages", "200",
          "--warmup-messages", "50", "--openssl-seconds", "1", "--jcmd=false", "--json", json.toString());
      String said = "\n--- stdout ---\n" + out + "\n--- stderr ---\n" + err;
      assertEquals(0, code, said);
      JsonNode report = new ObjectMapper().readTree(Files.readString(json));
      assertTrue(report.at("/scenarios/0/failure").isNull(), said);
      assertEquals(200, metric(report, "direct", "acked"), said);
      assertEquals(200, metric(report, "direct", "delivered"), said);
    }
  }

  private ServerConfig config() {
    String plugins = System.getProperty("esmp.it.plugins");
    assertTrue(plugins != null && Files.isDirectory(Path.of(plugins)),
        "failsafe copies the plugins to the directory named by esmp.it.plugins (mvn verify, not mvn test)");
    return ServerConfig.builder().bind("127.0.0.1").port(0).domain("example.com").dataDir(data)
        .pluginsDir(Path.of(plugins)).maxConnectionsPerIp(1_000)
        .ipFramesPerSecond(UNLIMITED).ipFramesBurst(UNLIMITED).ipBytesPerSecond(UNLIMITED).ipBytesBurst(UNLIMITED)
        .addressMessagesPerSecond(UNLIMITED).addressMessagesBurst(UNLIMITED).registrationsPerIpPerHour(UNLIMITED)
        .build();
  }

  private static double metric(JsonNode report, String scenario, String key) {
    for (JsonNode s : report.get("scenarios")) {
      if (s.get("name").asText().equals(scenario)) {
        JsonNode value = s.at("/metrics/" + key + "/value");
        assertTrue(value.isNumber(), scenario + " has no number " + key);
        return value.asDouble();
      }
    }
    throw new AssertionError("no scenario " + scenario);
  }

  private static void assertPositive(JsonNode report, String scenario, String... keys) {
    for (String key : keys) {
      assertTrue(metric(report, scenario, key) > 0, scenario + " " + key + ": " + report.get("scenarios"));
    }
  }
}
