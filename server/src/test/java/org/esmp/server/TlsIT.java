package org.esmp.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.esmp.api.json.JsonObject;
import org.esmp.client.EsmpClient;
import org.esmp.client.Identity;
import org.esmp.client.SigningKey;
import org.esmp.client.Tls;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.testing.Frames;
import org.esmp.server.testing.Programs;
import org.esmp.server.testing.TestClient;
import org.esmp.server.testing.TestIdentity;
import org.esmp.server.testing.TestServers;
import org.esmp.server.tls.ChannelBinding;
import org.esmp.server.tls.SelfSigned;
import org.esmp.server.tls.ServerTls;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS on the ESMP port, with real sockets: the project's client and openssl get {@code hello} over
 * TLS, plaintext is refused when TLS is required (and served when it is not), a certificate
 * replaced on disk reaches new connections without a restart, and {@code auth} is bound to its
 * TLS connection.
 */
class TlsIT {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private SelfSigned pair(String name) throws IOException {
    SelfSigned pair = SelfSigned.create("example.com", Duration.ofDays(30));
    pair.write(dir.resolve(name + ".crt"), dir.resolve(name + ".key"));
    return pair;
  }

  private EsmpServer start(ServerConfig.Builder builder) throws Exception {
    return EsmpServer.start(builder.build());
  }

  private ServerConfig.Builder config() {
    return TestServers.config(dir.resolve("data")).tls(dir.resolve("a.crt"), dir.resolve("a.key"));
  }

  /** A TLS context trusting exactly {@code certificate}, as a test client's. */
  private static SSLContext trusting(X509Certificate certificate) throws Exception {
    KeyStore anchors = KeyStore.getInstance(KeyStore.getDefaultType());
    anchors.load(null, null);
    anchors.setCertificateEntry("server", certificate);
    TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(anchors);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, trust.getTrustManagers(), null);
    return context;
  }

  @Test
  void theProjectsClientGetsHelloAndAuthenticatesOverTls() throws Exception {
    SelfSigned pair = pair("a");
    try (EsmpServer server = start(config())) {
      Identity alice = Identity.inMemory("alice#example.com", SigningKey.generate());
      try (EsmpClient client = EsmpClient.builder(alice).server("127.0.0.1", server.port())
          .tls(Tls.pinned(pair.fingerprint())).connect()) {
        assertEquals("example.com", client.hello().domain());
        assertTrue(client.auth(), "registered over TLS, the auth bound to the connection");
      }
      // A pin of another certificate is refused by the client before anything is sent.
      String other = SelfSigned.create("example.com", Duration.ofDays(30)).fingerprint();
      SSLException refused = assertThrows(SSLException.class, () -> EsmpClient.builder(alice)
          .server("127.0.0.1", server.port()).tls(Tls.pinned(other)).connect());
      assertTrue(refused.getMessage().contains("not the pinned one"), refused.getMessage());
    }
  }

  @Test
  void opensslGetsHelloOverTlsAndCannotUseTls11() throws Exception {
    pair("a");
    try (EsmpServer server = start(config())) {
      List<String> lines = openssl(server.port(), "-tls1_2");
      JsonNode hello = JSON.readTree(lines.get(0));
      assertEquals("hello", hello.path("type").asText());
      assertEquals("example.com", hello.path("domain").asText());
      assertTrue(openssl(server.port(), "-tls1_3").get(0).contains("\"type\":\"hello\""));

      // openssl offers TLS 1.1 only (its security level lowered so that it would): no handshake, no hello.
      List<String> old = openssl(server.port(), "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0");
      assertTrue(old.isEmpty(), "no hello over TLS 1.1: " + old);
    }
  }

  /**
   * Runs {@code openssl s_client} against the port and returns what it printed on stdout within a
   * few seconds: the server's frames. openssl is installed by .ci/run where it is missing.
   */
  private static List<String> openssl(int port, String... options) throws Exception {
    Programs.requireOpenssl();
    List<String> command = new java.util.ArrayList<>(List.of("openssl", "s_client", "-quiet",
        "-connect", "127.0.0.1:" + port));
    command.addAll(List.of(options));
    Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    try {
      CompletableFuture<List<String>> lines = CompletableFuture.supplyAsync(() -> {
        List<String> read = new java.util.ArrayList<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), UTF_8))) {
          String line = out.readLine();
          if (line != null) {
            read.add(line);
          }
        } catch (IOException e) {
          // the process was ended: what was read is the answer
        }
        return read;
      });
      // openssl ends by itself when the handshake fails (then the reader sees the end); a good
      // connection stays open: it is stopped once the first line is read.
      lines.get(10, TimeUnit.SECONDS);
      process.destroyForcibly();
      return lines.get(10, TimeUnit.SECONDS);
    } finally {
      process.destroyForcibly();
    }
  }

  @Test
  void plaintextIsRefusedWhenTlsIsRequired() throws Exception {
    pair("a");
    try (EsmpServer server = start(config()); Socket plain = new Socket()) {
      plain.connect(new InetSocketAddress("127.0.0.1", server.port()), 5_000);
      plain.setSoTimeout(10_000);
      BufferedReader in = new BufferedReader(new InputStreamReader(plain.getInputStream(), UTF_8));
      JsonNode error = JSON.readTree(in.readLine());
      assertEquals("error", error.path("type").asText());
      assertEquals("forbidden", error.path("code").asText());
      assertTrue(error.path("message").asText().contains("requires TLS"), error.toString());
      assertNull(in.readLine(), "closed after the one error");
    }
  }

  @Test
  void plaintextSpeakingFirstIsRefusedAtOnceWhenTlsIsRequired() throws Exception {
    pair("a");
    try (EsmpServer server = start(config().tlsDetectTimeout(Duration.ofSeconds(30)));
        Socket plain = new Socket()) {
      plain.connect(new InetSocketAddress("127.0.0.1", server.port()), 5_000);
      plain.setSoTimeout(10_000); // well under the 30 s detection wait: refused on its first byte
      plain.getOutputStream().write("{\"type\":\"sync\"}\n".getBytes(UTF_8));
      BufferedReader in = new BufferedReader(new InputStreamReader(plain.getInputStream(), UTF_8));
      assertEquals("forbidden", JSON.readTree(in.readLine()).path("code").asText());
    }
  }

  @Test
  void plaintextAndTlsShareThePortWhenTlsIsOptional() throws Exception {
    SelfSigned pair = pair("a");
    try (EsmpServer server = start(config().requireTls(false))) {
      TestIdentity plainKey = TestIdentity.random();
      try (TestClient plain = new TestClient(server.port())) {
        assertEquals("hello", plain.hello().path("type").asText());
        assertNull(plain.tlsBinding());
        assertEquals("ack", plain.call(plainKey.frame(Frames.auth(plain, "plain#example.com"))).path("type").asText());
      }
      try (TestClient tls = TestClient.overTls(server.port(), trusting(pair.certificate()))) {
        assertEquals("hello", tls.hello().path("type").asText());
        assertEquals("ack", tls.call(TestIdentity.random().frame(Frames.auth(tls, "secure#example.com")))
            .path("type").asText());
      }
      // A client that bound its auth to TLS, seen here on plaintext: TLS was taken off on the way.
      try (TestClient plain = new TestClient(server.port())) {
        JsonObject auth = Frames.auth(plain, "plain#example.com");
        JsonObject stripped = auth.toBuilder().put("body", ((JsonObject) auth.get("body")).toBuilder()
            .put(ChannelBinding.FIELD, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").build()).build();
        JsonNode answer = plain.call(plainKey.frame(stripped));
        assertEquals("forbidden", answer.path("code").asText(), answer.toString());
      }
    }
  }

  @Test
  void anAuthRelayedFromAConnectionWithAnotherCertificateIsRefused() throws Exception {
    SelfSigned real = pair("a");
    SelfSigned impostor = pair("b");
    try (EsmpServer server = start(config());
        EsmpServer relayEnd = EsmpServer.start(TestServers.config(dir.resolve("relay-data"))
            .tls(dir.resolve("b.crt"), dir.resolve("b.key")).build())) {
      TestIdentity key = TestIdentity.random();
      try (TestClient relay = TestClient.overTls(server.port(), trusting(real.certificate()));
          TestClient victim = TestClient.overTls(relayEnd.port(), trusting(impostor.certificate()))) {
        assertNotEquals(relay.tlsBinding(), victim.tlsBinding());
        // The relay passes its own connection's hello on to the victim, who signs the relay's
        // challenge with the binding of the TLS connection the victim has: to the relay.
        JsonObject auth = Frames.auth(relay, "victim#example.com");
        JsonObject signedByVictim = auth.toBuilder().put("body", ((JsonObject) auth.get("body")).toBuilder()
            .put(ChannelBinding.FIELD, victim.tlsBinding()).build()).build();
        JsonNode answer = relay.call(key.frame(signedByVictim));
        assertEquals("forbidden", answer.path("code").asText(), answer.toString());
        assertTrue(answer.path("message").asText().contains("another certificate"), answer.toString());

        // Without a binding at all, on TLS: refused as well.
        JsonObject unbound = auth.toBuilder().put("body", ((JsonObject) auth.get("body")).toBuilder()
            .remove(ChannelBinding.FIELD).build()).build();
        assertEquals("forbidden", relay.call(key.frame(unbound)).path("code").asText());

        // The same auth with the connection's own binding is accepted.
        assertEquals("ack", relay.call(key.frame(Frames.auth(relay, "victim#example.com"))).path("type").asText());
      }
    }
  }

  @Test
  void aCertificateReplacedOnDiskIsServedToNewConnectionsWithoutRestart() throws Exception {
    SelfSigned first = pair("a");
    try (EsmpServer server = start(config().tlsReloadInterval(Duration.ofMillis(100)))) {
      assertEquals(first.fingerprint(), servedFingerprint(server.port()));
      TestClient open = TestClient.overTls(server.port(), trusting(first.certificate()));

      // Replaced as certbot does: new files written beside, then moved over the served ones.
      SelfSigned second = pair("b");
      Files.move(dir.resolve("b.key"), dir.resolve("a.key"), StandardCopyOption.REPLACE_EXISTING,
          StandardCopyOption.ATOMIC_MOVE);
      Files.move(dir.resolve("b.crt"), dir.resolve("a.crt"), StandardCopyOption.REPLACE_EXISTING,
          StandardCopyOption.ATOMIC_MOVE);
      assertEquals(second.fingerprint(), awaitServed(server.port(), second.fingerprint()));

      // A connection opened before the change goes on as it was.
      assertEquals("ack", open.call(TestIdentity.random().frame(Frames.auth(open, "early#example.com")))
          .path("type").asText());
      open.close();

      // A broken pair (the key of another certificate) is not served: the good one stays.
      SelfSigned third = SelfSigned.create("example.com", Duration.ofDays(30));
      Files.writeString(dir.resolve("a.crt"), third.certificatePem());
      for (int i = 0; i < 5; i++) {
        Thread.sleep(200);
        assertEquals(second.fingerprint(), servedFingerprint(server.port()));
      }
    }
  }

  @Test
  void theMetricsCountTransportsAndTellTheCertificatesExpiry() throws Exception {
    SelfSigned pair = pair("a");
    try (EsmpServer server = start(config().metricsOnAnyPort())) {
      try (TestClient tls = TestClient.overTls(server.port(), trusting(pair.certificate()))) {
        assertEquals("hello", tls.hello().path("type").asText());
      }
      try (Socket plain = new Socket()) {
        plain.connect(new InetSocketAddress("127.0.0.1", server.port()), 5_000);
        plain.setSoTimeout(10_000);
        plain.getOutputStream().write("{}\n".getBytes(UTF_8));
        assertEquals("forbidden", JSON.readTree(new BufferedReader(new InputStreamReader(plain.getInputStream(), UTF_8))
            .readLine()).path("code").asText());
      }
      String other = SelfSigned.create("example.com", Duration.ofDays(1)).fingerprint();
      assertThrows(SSLException.class, () -> EsmpClient.builder(Identity.inMemory("a#example.com", SigningKey.generate()))
          .server("127.0.0.1", server.port()).tls(Tls.pinned(other)).connect());

      String url = "http://127.0.0.1:" + server.metricsPort().orElseThrow() + "/metrics";
      java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      String metrics;
      do { // the failed handshake is counted once the server has read the client's alert
        metrics = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url)).build(),
            java.net.http.HttpResponse.BodyHandlers.ofString()).body();
      } while (!metrics.contains("esmp_connections_transport_total{transport=\"tls_failed\"} 1.0")
          && System.nanoTime() < deadline);
      assertTrue(metrics.contains("esmp_connections_transport_total{transport=\"tls\"} 1.0"), metrics);
      assertTrue(metrics.contains("esmp_connections_transport_total{transport=\"plaintext_refused\"} 1.0"), metrics);
      assertTrue(metrics.contains("esmp_connections_transport_total{transport=\"tls_failed\"} 1.0"), metrics);
      assertTrue(metrics.contains("esmp_connections_transport_total{transport=\"plaintext\"} 0.0"), metrics);
      double expiry = metrics.lines().filter(l -> l.startsWith("esmp_tls_certificate_expiry_seconds "))
          .mapToDouble(l -> Double.parseDouble(l.substring(l.indexOf(' ') + 1))).findFirst().orElseThrow();
      double expected = (pair.certificate().getNotAfter().getTime() - System.currentTimeMillis()) / 1000.0;
      assertTrue(Math.abs(expiry - expected) < 60, expiry + " s, expected about " + expected);
    }
  }

  private static String awaitServed(int port, String expected) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    String seen = servedFingerprint(port);
    while (!seen.equals(expected) && System.nanoTime() < deadline) {
      Thread.sleep(50);
      seen = servedFingerprint(port);
    }
    return seen;
  }

  /** The fingerprint of the certificate a new TLS connection is served. */
  private static String servedFingerprint(int port) throws Exception {
    SSLContext any = SSLContext.getInstance("TLS");
    any.init(null, new javax.net.ssl.TrustManager[] {new TrustingAll()}, null);
    try (SSLSocket socket = (SSLSocket) any.getSocketFactory().createSocket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      socket.startHandshake();
      return ServerTls.fingerprint((X509Certificate) socket.getSession().getPeerCertificates()[0]);
    }
  }

  /** Trusts any server: for reading which certificate is served, nothing else. */
  private static final class TrustingAll implements javax.net.ssl.X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
