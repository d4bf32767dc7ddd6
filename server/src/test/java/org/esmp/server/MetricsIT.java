package org.esmp.server;

import static org.esmp.server.testing.Frames.assertAck;
import static org.esmp.server.testing.Frames.assertError;
import static org.esmp.server.testing.Frames.message;
import static org.esmp.server.testing.Frames.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.esmp.api.json.JsonObject;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.testing.ClusterDatabase;
import org.esmp.server.testing.TestClient;
import org.esmp.server.testing.TestServers;
import org.esmp.server.testing.TestUser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The metrics port (issue 14) against the real server over real sockets: Prometheus counters move
 * by exactly the traffic sent, {@code /health} answers, and {@code /ready} says 503 until the
 * storage is open and 200 after.
 */
class MetricsIT {

  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir Path data;

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @Test
  void countersMoveByTheTrafficSent() throws Exception {
    try (EsmpServer server = EsmpServer.start(TestServers.config(data).metricsOnAnyPort().build())) {
      int metrics = server.metricsPort().orElseThrow();
      Scrape before = scrape(metrics);

      TestUser alice = TestUser.register(server.port(), "alice");
      TestUser bob = TestUser.register(server.port(), "bob");
      for (int i = 0; i < 5; i++) {
        assertAck(alice.send(text("hello " + i, bob.address())));
      }
      String resent = alice.key().frame(text("once", bob.address()));
      assertAck(alice.client().call(resent));
      assertTrue(alice.client().call(resent).path("duplicate").asBoolean(), "a resend is answered as a duplicate");
      assertError(alice.client().call("{not json"), "bad_json");
      assertError(alice.send(message("nobody.declares.this", JsonObject.empty())), "unsupported_type");

      Scrape after = scrape(metrics);
      Map<String, String> text = Map.of("type", "text");
      assertEquals(6, after.delta(before, "esmp_messages_total", with(text, "outcome", "accepted")));
      assertEquals(1, after.delta(before, "esmp_messages_total", with(text, "outcome", "duplicate")));
      assertEquals(0, after.delta(before, "esmp_messages_total", with(text, "outcome", "rejected")));
      assertEquals(2, after.delta(before, "esmp_messages_total", Map.of("type", "auth", "outcome", "accepted")));
      assertEquals(1, after.delta(before, "esmp_messages_total", Map.of("type", "unverified", "outcome", "rejected")));
      // A type no plugin declares has no label of its own: the labels stay bounded.
      assertEquals(1, after.delta(before, "esmp_messages_total", Map.of("type", "other", "outcome", "rejected")));
      assertFalse(after.text.contains("nobody.declares.this"), "an undeclared type is not a label");
      assertEquals(1, after.delta(before, "esmp_errors_total", Map.of("code", "bad_json")));
      assertEquals(1, after.delta(before, "esmp_errors_total", Map.of("code", "unsupported_type")));
      assertEquals(0, after.delta(before, "esmp_errors_total", Map.of("code", "internal")));
      // Every frame is verified once: 2 auth, 7 text, the bad one and the undeclared type.
      assertEquals(11, after.delta(before, "esmp_verify_seconds_count", Map.of()));
      // At least the 2 registrations and the 6 texts were committed.
      assertTrue(after.delta(before, "esmp_commit_seconds_count", Map.of()) >= 8, after.text);
      assertEquals(2, after.delta(before, "esmp_connections_accepted_total", Map.of()));
      assertEquals(2, after.value("esmp_connections_open", Map.of()));
      assertEquals(0, after.value("esmp_federation_outbox_depth", Map.of()));
      assertEquals(1, after.value("esmp_ready", Map.of()));
      // A plugin call is metered once its result is decided, which may be just after its answer left.
      Map<String, String> deliver = Map.of("plugin", "direct-delivery", "method", "deliver", "outcome", "ok");
      awaitValue(6, () -> scrape(metrics).delta(before, "esmp_plugin_calls_total", deliver));
      Map<String, String> validate = Map.of("plugin", "direct-delivery", "method", "validate", "outcome", "ok");
      awaitValue(6, () -> scrape(metrics).delta(before, "esmp_plugin_calls_total", validate));
      assertTrue(scrape(metrics).value("esmp_plugin_call_seconds_count",
          Map.of("plugin", "direct-delivery", "method", "deliver")) >= 6);
      // The JVM's own.
      assertTrue(after.text.contains("jvm_memory_used_bytes{"), "JVM memory meters are exported");
      assertTrue(after.text.contains("jvm_threads_live_threads "), "JVM thread meters are exported");
      assertTrue(after.text.contains("process_uptime_seconds "), "the uptime is exported");

      bob.client().close();
      awaitValue(1, () -> scrape(metrics).delta(before, "esmp_connections_closed_total", Map.of()));
      assertEquals(1, scrape(metrics).value("esmp_connections_open", Map.of()));
      alice.client().close();
    }
  }

  @Test
  void aConnectionOverTheLimitIsCountedAsRefused() throws Exception {
    try (EsmpServer server = EsmpServer.start(TestServers.config(data).maxConnectionsPerIp(1).metricsOnAnyPort()
        .build())) {
      int metrics = server.metricsPort().orElseThrow();
      Scrape before = scrape(metrics);
      try (TestClient first = new TestClient(server.port()); TestClient second = new TestClient(server.port())) {
        assertEquals("hello", first.hello().path("type").asText());
        assertError(second.hello(), "rate_limited");
      }
      Scrape after = scrape(metrics);
      assertEquals(1, after.delta(before, "esmp_rate_limited_total", Map.of("limit", "max_connections_per_ip")));
      assertEquals(0, after.delta(before, "esmp_rate_limited_total", Map.of("limit", "max_connections")));
      assertEquals(1, after.delta(before, "esmp_errors_total", Map.of("code", "rate_limited")));
      assertEquals(1, after.delta(before, "esmp_connections_accepted_total", Map.of()));
    }
  }

  @Test
  void healthAnswersAndTheEndpointServesOnlyItsPaths() throws Exception {
    try (EsmpServer server = EsmpServer.start(TestServers.config(data).metricsOnAnyPort().build())) {
      int metrics = server.metricsPort().orElseThrow();
      HttpResponse<String> health = get(metrics, "/health");
      assertEquals(200, health.statusCode());
      assertEquals("ok\n", health.body());
      HttpResponse<String> ready = get(metrics, "/ready");
      assertEquals(200, ready.statusCode());
      assertEquals("ready\n", ready.body());
      HttpResponse<String> scraped = get(metrics, "/metrics?name[]=ignored");
      assertEquals(200, scraped.statusCode());
      assertTrue(scraped.headers().firstValue("content-type").orElse("").startsWith("text/plain; version=0.0.4"),
          scraped.headers().toString());
      assertTrue(scraped.body().contains("# TYPE esmp_messages_total counter"), scraped.body());
      assertEquals(404, get(metrics, "/").statusCode());
      HttpResponse<String> post = http.send(HttpRequest.newBuilder(uri(metrics, "/metrics"))
          .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(405, post.statusCode());
      HttpResponse<String> head = http.send(HttpRequest.newBuilder(uri(metrics, "/health"))
          .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, head.statusCode());
      assertEquals("", head.body());
    }
  }

  @Test
  void metricsAreOffByDefault() throws Exception {
    try (EsmpServer server = TestServers.start(data)) {
      assertTrue(server.metricsPort().isEmpty());
    }
  }

  @Test
  void readyIsFalseUntilTheStorageIsOpen() throws Exception {
    // The test's plugins: one that holds the start while a file exists, loaded first (jars load in
    // the order of their names), then the storage.
    Path plugins = Files.createDirectory(data.resolve("plugins"));
    Files.copy(faultyPlugin("esmp-test-plugin-held-start.jar"), plugins.resolve("a-held-start.jar"));
    Files.copy(TestServers.pluginsDir().resolve(ClusterDatabase.storageJar()), plugins.resolve(ClusterDatabase.storageJar()));
    Path serverData = data.resolve("data");
    Files.createDirectories(serverData);
    Path hold = Files.createFile(serverData.resolve("held-start"));
    int metrics = freePort();
    ServerConfig config = TestServers.config(serverData).pluginsDir(plugins).metricsPort(metrics)
        .pluginTimeout(WAIT.multipliedBy(2)).build();

    CompletableFuture<EsmpServer> started = CompletableFuture.supplyAsync(() -> {
      try {
        return EsmpServer.start(config);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    try {
      HttpResponse<String> starting = awaitAnswer(metrics, "/ready");
      assertEquals(503, starting.statusCode(), starting.body());
      assertTrue(starting.body().startsWith("not ready: starting"), starting.body());
      assertFalse(storageOpen(serverData), "the storage has not opened its file or made its tables yet");
      assertFalse(started.isDone(), "the start is held");
      assertEquals(200, get(metrics, "/health").statusCode(), "the process is alive while it starts");
      assertEquals(0, scrape(metrics).value("esmp_ready", Map.of()));
      assertEquals(503, get(metrics, "/ready").statusCode(), "still held");

      Files.delete(hold);
      try (EsmpServer server = started.get(WAIT.toSeconds(), TimeUnit.SECONDS)) {
        assertTrue(storageOpen(serverData), "the storage is open");
        HttpResponse<String> ready = get(metrics, "/ready");
        assertEquals(200, ready.statusCode(), ready.body());
        assertEquals(1, scrape(metrics).value("esmp_ready", Map.of()));
        assertEquals(metrics, server.metricsPort().orElseThrow());
      }
    } finally {
      Files.deleteIfExists(hold);
      started.handle((server, failure) -> {
        if (server != null) {
          server.close();
        }
        return null;
      }).get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }
  }

  /**
   * Whether the storage of the server on {@code serverData} has opened its store: storage-mapdb's
   * file, or storage-postgres's tables in the database (made at its start).
   */
  private static boolean storageOpen(Path serverData) throws Exception {
    if (!ClusterDatabase.enabled()) {
      return Files.exists(serverData.resolve("storage-mapdb").resolve("storage.db"));
    }
    try (Connection connection = DriverManager.getConnection(ClusterDatabase.jdbcUrl(serverData));
        ResultSet tables = connection.createStatement().executeQuery("SELECT to_regclass('identities') IS NOT NULL")) {
      tables.next();
      return tables.getBoolean(1);
    }
  }

  /** No storage installed and none chosen (with one chosen, the start stops: StorageChoiceIT). */
  @Test
  void readyIsFalseWithoutAStorage() throws Exception {
    Path noPlugins = Files.createDirectory(data.resolve("no-plugins"));
    try (EsmpServer server = EsmpServer.start(TestServers.storageUnchosen(data.resolve("data")).pluginsDir(noPlugins)
        .metricsOnAnyPort().build())) {
      HttpResponse<String> ready = get(server.metricsPort().orElseThrow(), "/ready");
      assertEquals(503, ready.statusCode());
      assertEquals("not ready: no storage plugin installed\n", ready.body());
      assertEquals(200, get(server.metricsPort().orElseThrow(), "/health").statusCode());
    }
  }

  // --- helpers

  private static Map<String, String> with(Map<String, String> labels, String name, String value) {
    Map<String, String> all = new HashMap<>(labels);
    all.put(name, value);
    return all;
  }

  private static Path faultyPlugin(String jar) {
    String dir = System.getProperty("esmp.it.faulty-plugins");
    assertTrue(dir != null && Files.isRegularFile(Path.of(dir, jar)), "the build copies " + jar + " to " + dir);
    return Path.of(dir, jar);
  }

  /** A port free now; the server binds it a moment later (a test that must know it before start returns). */
  private static int freePort() throws IOException {
    try (ServerSocket probe = new ServerSocket(0)) {
      return probe.getLocalPort();
    }
  }

  private static URI uri(int port, String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }

  private HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(uri(port, path)).timeout(Duration.ofSeconds(10)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** GETs {@code path} once the port listens (the server starting on another thread binds it). */
  private HttpResponse<String> awaitAnswer(int port, String path) throws Exception {
    long end = System.nanoTime() + WAIT.toNanos();
    while (true) {
      try {
        return get(port, path);
      } catch (ConnectException e) {
        if (System.nanoTime() > end) {
          throw e;
        }
        Thread.sleep(20);
      }
    }
  }

  /** Waits until {@code value} reads {@code expected}, for at most {@link #WAIT}. */
  private static void awaitValue(double expected, ThrowingDoubleSupplier value) throws Exception {
    long end = System.nanoTime() + WAIT.toNanos();
    double last;
    while ((last = value.get()) != expected) {
      if (System.nanoTime() > end) {
        fail("expected " + expected + ", still " + last + " after " + WAIT.toSeconds() + " s");
      }
      Thread.sleep(20);
    }
  }

  @FunctionalInterface
  private interface ThrowingDoubleSupplier {
    double get() throws Exception;
  }

  private Scrape scrape(int port) throws IOException, InterruptedException {
    HttpResponse<String> response = get(port, "/metrics");
    assertEquals(200, response.statusCode());
    return new Scrape(response.body());
  }

  /** One scrape in the Prometheus text format, read with a parser of this test's own. */
  private record Scrape(String text) {

    /** The sample of {@code name} whose labels include {@code labels}; 0 when there is none. */
    double value(String name, Map<String, String> labels) {
      double found = 0;
      int matches = 0;
      for (String line : text.split("\n")) {
        if (line.startsWith("#") || line.isBlank()) {
          continue;
        }
        int brace = line.indexOf('{');
        int space = line.lastIndexOf(' ');
        String metric = brace >= 0 ? line.substring(0, brace) : line.substring(0, space);
        if (!metric.equals(name)) {
          continue;
        }
        Map<String, String> sample = brace < 0 ? Map.of() : labels(line.substring(brace + 1, line.lastIndexOf('}')));
        if (sample.entrySet().containsAll(labels.entrySet())) {
          found = Double.parseDouble(line.substring(space + 1));
          matches++;
        }
      }
      assertTrue(matches <= 1, "one sample of " + name + labels + ", not " + matches);
      return found;
    }

    double delta(Scrape before, String name, Map<String, String> labels) {
      return value(name, labels) - before.value(name, labels);
    }

    private static Map<String, String> labels(String text) {
      Map<String, String> labels = new HashMap<>();
      for (String pair : text.split(",")) {
        int equals = pair.indexOf('=');
        if (equals > 0) {
          labels.put(pair.substring(0, equals), pair.substring(equals + 2, pair.length() - 1));
        }
      }
      return labels;
    }
  }
}
