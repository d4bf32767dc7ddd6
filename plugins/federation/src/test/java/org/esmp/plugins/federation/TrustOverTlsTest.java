package org.esmp.plugins.federation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.esmp.api.Address;
import org.esmp.api.Ed25519Key;
import org.esmp.api.MailboxEntry;
import org.esmp.api.MessageId;
import org.esmp.api.Writes;
import org.esmp.api.federation.Federation;
import org.esmp.api.json.JsonObject;
import org.esmp.api.spi.StorageChange;
import org.esmp.api.testkit.InMemoryStorage;
import org.esmp.api.testkit.TestContext;
import org.esmp.api.testkit.TestFederation;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Trust of a peer's key over real TLS: learned and remembered over TLS valid for the domain (trust
 * on first use), refused when it changed or the certificate is not valid for the domain, and
 * pinned over TLS with any certificate.
 */
class TrustOverTlsTest {

  private static final Address ALICE = Address.parse("alice#a.example");
  private static final Address BOB = Address.parse("bob#b.example");
  private static final String PEER = "b.example";

  @TempDir
  Path directory;

  private final InMemoryStorage storage = new InMemoryStorage();
  private final List<AutoCloseable> closing = new ArrayList<>();
  private FakePeer peer;

  @AfterEach
  void close() throws Exception {
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
  }

  /** A relay of a.example to the TLS peer b.example presenting a certificate for {@code certifiedName}. */
  private FederationRelay relay(String certifiedName, boolean trustCertificate, boolean pin) throws Exception {
    PeerCertificate certificate = PeerCertificate.make(directory, certifiedName);
    Federation.Settings settings = new Federation.Settings(Duration.ofSeconds(2), Duration.ofSeconds(2),
        Duration.ofMillis(200), 100_000, Duration.ofHours(168),
        trustCertificate ? Optional.of(certificate.pem) : Optional.empty());
    TestFederation binder = TestFederation.builder(storage).build();
    peer = new FakePeer(PEER, "a.example", certificate.server, binder.channelBinding(certificate.certificate));
    closing.add(peer);
    TestFederation federation = TestFederation.builder(storage).settings(settings)
        .peer(new Federation.Peer(PEER, "127.0.0.1", peer.port(), pin ? Optional.of(peer.key()) : Optional.empty()))
        .build();
    peer.verifier(federation);
    TestContext context = TestContext.builder("federation").domains("a.example").storage(storage)
        .dataDirectory(directory.resolve("data")).federation(federation).build();
    context.register(ALICE);
    federation.append(BOB, MailboxEntry.direct(new MessageId("a".repeat(64)), ALICE, System.currentTimeMillis(),
        JsonObject.builder().put("type", "text").put("body", JsonObject.empty()).build()));
    FederationRelay relay = new FederationRelay(context);
    closing.add(relay);
    relay.appended(Set.of(PEER));
    return relay;
  }

  private Optional<String> remembered() {
    return storage.get(PeerTrust.SPACE, PEER).map(b -> new String(b, StandardCharsets.US_ASCII));
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > until) {
        throw new AssertionError("timed out waiting until " + what);
      }
      Thread.sleep(10);
    }
  }

  @Test
  void learnsAndRemembersTheKeyOfAPeerWhoseTlsIsValidForItsDomain() throws Exception {
    FederationRelay relay = relay(PEER, true, false);

    await("the entry is relayed", () -> peer.received().size() == 1);
    assertEquals(Optional.of(peer.key().base64()), remembered());
    assertEquals(peer.key(), relay.peerKey(PEER).toCompletableFuture().get(10, TimeUnit.SECONDS));
  }

  @Test
  void peerKeyConnectsToLearnAKeyNotKnownYet() throws Exception {
    FederationRelay relay = relay(PEER, true, false);
    storage.commit(StorageChange.builder().writes(Writes.builder().delete(PeerTrust.SPACE, PEER).build()).build());

    Ed25519Key learned = relay.peerKey(PEER).toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals(peer.key(), learned);
    assertEquals(Optional.of(peer.key().base64()), remembered());
  }

  @Test
  void refusesAKeyOtherThanTheRememberedOne() throws Exception {
    Ed25519Key before = Ed25519Key.of(new byte[Ed25519Key.LENGTH]);
    storage.commit(StorageChange.builder().writes(Writes.builder()
        .put(PeerTrust.SPACE, PEER, before.base64().getBytes(StandardCharsets.US_ASCII)).build()).build());
    FederationRelay relay = relay(PEER, true, false);

    await("the refusal is in the status", () -> relay.outboxes().containsKey(PEER)
        && relay.outboxes().get(PEER).lastError().contains("but it was " + before));
    assertEquals(List.of(), peer.received());
    assertEquals(Optional.of(before.base64()), remembered(), "the remembered key stays");
  }

  @Test
  void withoutAPinRefusesTlsNotValidForTheDomain() throws Exception {
    FederationRelay relay = relay("c.example", true, false);

    await("the refusal is in the status", () -> relay.outboxes().containsKey(PEER)
        && relay.outboxes().get(PEER).lastError().contains("no TLS valid for b.example"));
    assertEquals(List.of(), peer.received());
    assertEquals(Optional.empty(), remembered());
  }

  @Test
  void aPinnedPeerIsTrustedOverTlsWithAnyCertificate() throws Exception {
    relay("c.example", false, true);

    await("the entry is relayed", () -> peer.received().size() == 1);
    assertTrue(remembered().isEmpty(), "a pinned key is not remembered");
  }
}
