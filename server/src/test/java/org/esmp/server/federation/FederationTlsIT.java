package org.esmp.server.federation;

import static org.esmp.server.federation.FederationFrames.ids;
import static org.esmp.server.federation.FederationFrames.verify;
import static org.esmp.server.testing.Frames.assertAck;
import static org.esmp.server.testing.Frames.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.esmp.server.testing.Await;
import org.esmp.server.testing.FederatedServer;
import org.esmp.server.testing.TestUser;
import org.esmp.server.tls.SelfSigned;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two servers over TLS without pins, as docs/FEDERATION.md sets them up for the internet: each has
 * a certificate for its domain, trusted by the other (here through {@code federation_tls_trust}, as
 * a private CA would be), and each learns the other's server key from its {@code hello} over that
 * TLS, then remembers it.
 */
class FederationTlsIT {

  private static final Duration ARRIVAL = Duration.ofSeconds(30);

  @TempDir Path dir;

  /** {@code server} with a self-signed certificate for its domain, trusting {@code trusted}'s. */
  private static void tls(FederatedServer server, Path certs, String trusted) throws Exception {
    String domain = server.domain();
    SelfSigned.create(domain, Duration.ofDays(2)).write(certs.resolve(domain + ".crt"), certs.resolve(domain + ".key"));
    server.settings("tls_cert: " + certs.resolve(domain + ".crt") + "\ntls_key: " + certs.resolve(domain + ".key")
        + "\nrequire_tls: false\nfederation_tls_trust: " + certs.resolve(trusted + ".crt") + "\n");
  }

  @Test
  void serversWithoutPinsTrustEachOthersKeyOverTlsValidForTheDomain() throws Exception {
    try (FederatedServer a = FederatedServer.create("a.example", dir);
        FederatedServer b = FederatedServer.create("b.example", dir)) {
      Path certs = dir.resolve("certs");
      Files.createDirectories(certs);
      tls(a, certs, "b.example");
      tls(b, certs, "a.example");
      a.peer(b.domain(), b.port(), null); // where it is, not its key
      b.peer(a.domain(), a.port(), null);
      FederatedServer.startAll(a, b);

      TestUser alice = a.register("alice");
      TestUser bob = b.register("bob");
      String toBob = assertAck(alice.send(text("over TLS", bob.address()))).path("re").asText();
      String toAlice = assertAck(bob.send(text("back over TLS", alice.address()))).path("re").asText();
      List<JsonNode> bobs = Await.until("alice's message at bob", ARRIVAL, () -> b.mailbox(bob),
          box -> ids(box).contains(toBob), () -> a.log() + b.log());
      assertEquals(List.of(toBob), ids(bobs));
      assertEquals(alice.key().publicKey(), verify(bobs.get(0)));
      List<JsonNode> alices = Await.until("bob's message at alice", ARRIVAL, () -> a.mailbox(alice),
          box -> ids(box).contains(toAlice), () -> a.log() + b.log());
      assertEquals(List.of(toAlice), ids(alices));

      assertTrue(a.logLines().stream().anyMatch(line -> line.contains("connected to") && line.contains("over TLS")
          && line.contains("on first use")), "a.example learned b.example's key over TLS:" + a.log());
      assertTrue(b.logLines().stream().anyMatch(line -> line.contains("a.example authenticated") && line.contains("over TLS")),
          "a.example's auth came over TLS:" + b.log());

      // After a restart the key is remembered, not learned again.
      a.stop();
      a.start();
      String again = assertAck(alice.reconnect(a.port()).send(text("after a restart", bob.address()))).path("re").asText();
      Await.until("the message after a restart at bob", ARRIVAL, () -> b.mailbox(bob), box -> ids(box).contains(again),
          () -> a.log() + b.log());
      assertTrue(a.logLines().stream().anyMatch(line -> line.contains("over TLS") && line.contains("key remembered")),
          "b.example's key remembered across the restart:" + a.log());
    }
  }
}
