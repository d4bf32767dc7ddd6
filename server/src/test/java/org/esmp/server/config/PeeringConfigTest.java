package org.esmp.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.esmp.api.Ed25519Key;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The federation settings: {@code peers} and the rest in esmp.yaml, and {@code --peer}. */
class PeeringConfigTest {

  private static final String KEY = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

  @TempDir Path dir;

  private ServerConfig load(String yaml) throws IOException {
    Path file = dir.resolve("esmp.yaml");
    Files.writeString(file, yaml);
    ServerConfig.Builder builder = ServerConfig.builder();
    ConfigFile.apply(file, builder, dir);
    return builder.build();
  }

  @Test
  void defaultsHaveNoPeersAndBoundedOutboxes() {
    ServerConfig.Peering peering = ServerConfig.builder().build().peering();
    assertEquals(0, peering.peers().size());
    assertEquals(Duration.ofSeconds(10), peering.connectTimeout());
    assertEquals(Duration.ofSeconds(30), peering.answerTimeout());
    assertEquals(Duration.ofMinutes(5), peering.retryMax());
    assertEquals(100_000, peering.outboxMaxMessages());
    assertEquals(Duration.ofDays(7), peering.outboxMaxAge());
    assertEquals(1000, peering.peerMessagesPerSecond());
    assertEquals(2000, peering.peerMessagesBurst());
  }

  @Test
  void aShortRetentionShortensTheDefaultOutboxAge() {
    ServerConfig config = ServerConfig.builder().retention(Duration.ofDays(2)).build();
    assertEquals(Duration.ofDays(1), config.peering().outboxMaxAge());
  }

  @Test
  void readsEveryFederationSetting() throws IOException {
    ServerConfig config = load("""
        peers:
          - domain: b.example
            host: 127.0.0.1
            port: 5889
            key: %s
          - domain: c.example
            host: c.internal
            port: 5888
        federation_connect_seconds: 3
        federation_answer_seconds: 4
        federation_retry_max_seconds: 60
        outbox_max_messages: 500
        outbox_max_age_hours: 12
        federation_tls_trust: ca.pem
        peer_messages_per_second: 10
        peer_messages_burst: 20
        """.formatted(KEY));
    ServerConfig.Peering peering = config.peering();
    assertEquals(new ServerConfig.Peer("b.example", "127.0.0.1", 5889, Optional.of(Ed25519Key.fromBase64(KEY))),
        peering.peer("b.example").orElseThrow());
    assertEquals(new ServerConfig.Peer("c.example", "c.internal", 5888, Optional.empty()),
        peering.peer("c.example").orElseThrow());
    assertEquals(Duration.ofSeconds(3), peering.connectTimeout());
    assertEquals(Duration.ofSeconds(4), peering.answerTimeout());
    assertEquals(Duration.ofSeconds(60), peering.retryMax());
    assertEquals(500, peering.outboxMaxMessages());
    assertEquals(Duration.ofHours(12), peering.outboxMaxAge());
    assertEquals(dir.resolve("ca.pem"), peering.tlsTrust());
    assertEquals(10, peering.peerMessagesPerSecond());
    assertEquals(20, peering.peerMessagesBurst());
  }

  @Test
  void parsesThePeerFlag() {
    assertEquals(new ServerConfig.Peer("b.example", "10.0.0.2", 5889, Optional.empty()),
        ServerConfig.Peer.parse("b.example=10.0.0.2:5889"));
    assertEquals(new ServerConfig.Peer("b.example", "::1", 5889, Optional.of(Ed25519Key.fromBase64(KEY))),
        ServerConfig.Peer.parse("b.example=[::1]:5889:" + KEY));
  }

  @Test
  void aPeerFlagReplacesTheFileEntryOfItsDomain() throws IOException {
    Path file = dir.resolve("esmp.yaml");
    Files.writeString(file, "peers:\n  - {domain: b.example, host: old.host, port: 1}\n");
    ServerConfig.Builder builder = ServerConfig.builder();
    ConfigFile.apply(file, builder, dir);
    builder.peer(ServerConfig.Peer.parse("b.example=new.host:2"));
    assertEquals("new.host", builder.build().peering().peer("b.example").orElseThrow().host());
  }

  @Test
  void refusesBadPeersNamingWhatIsWrong() {
    Map<String, String> problemOf = Map.of(
        "b.example", "DOMAIN=HOST:PORT",
        "b.example=host", "DOMAIN=HOST:PORT",
        "b.example=host:x", "port must be a number",
        "b.example=host:0", "port must be 1-65535",
        "B.example=host:1", "lowercase DNS name",
        "b.example=host:1:notakey", "key must be a server key",
        "b.example=[::1:1", "closing ']'");
    problemOf.forEach((flag, problem) -> {
      ConfigException refused = assertThrows(ConfigException.class, () -> ServerConfig.Peer.parse(flag), flag);
      assertTrue(refused.getMessage().contains(problem), flag + ": " + refused.getMessage());
    });
  }

  @Test
  void refusesBadFederationSettingsNamingTheKey() {
    Map<String, String> keyOf = Map.of(
        "peers: b.example\n", "peers",
        "peers:\n  - {domain: b.example, host: h}\n", "domain, host and port",
        "peers:\n  - {domain: b.example, host: h, port: 1, pin: x}\n", "unknown setting 'pin'",
        "peers:\n  - {domain: b.example, host: h, port: 1}\n  - {domain: b.example, host: h, port: 2}\n",
        "configured twice",
        "peers:\n  - {domain: localhost, host: h, port: 1}\n", "a domain of this server",
        "outbox_max_age_hours: 800\n", "outbox_max_age_hours",
        "outbox_max_messages: 0\n", "outbox_max_messages",
        "federation_answer_seconds: 0\n", "federation_answer_seconds",
        "peer_messages_per_second: 0\n", "peer_messages_per_second");
    keyOf.forEach((yaml, key) -> {
      ConfigException refused = assertThrows(ConfigException.class, () -> load(yaml), yaml);
      assertTrue(refused.getMessage().contains(key), key + ": " + refused.getMessage());
    });
  }
}
