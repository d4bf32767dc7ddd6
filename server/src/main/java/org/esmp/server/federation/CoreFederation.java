package org.esmp.server.federation;

import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.esmp.api.Address;
import org.esmp.api.Ed25519Key;
import org.esmp.api.MailboxEntry;
import org.esmp.api.SignedMessage;
import org.esmp.api.federation.Federation;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonString;
import org.esmp.api.spi.Storage;
import org.esmp.json.JsonWriter;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.tls.ChannelBinding;
import org.esmp.server.verify.FrameVerifier;
import org.esmp.server.verify.Verdict;

/** What the server offers the federation plugin ({@link Federation}): one instance, shared by every plugin. */
public final class CoreFederation implements Federation {

  private final ServerConfig.Peering peering;
  private final ServerKey key;
  private final PeerEndpoints endpoints;
  private final Supplier<Storage> storage;
  private final FrameVerifier verifier;
  private final Settings settings;

  /**
   * @param verifier checks what {@link #sign} made, and gives it as a message
   */
  public CoreFederation(ServerConfig.Peering peering, ServerKey key, PeerEndpoints endpoints, Supplier<Storage> storage,
      FrameVerifier verifier) {
    this.peering = peering;
    this.key = key;
    this.endpoints = endpoints;
    this.storage = storage;
    this.verifier = verifier;
    this.settings = new Settings(peering.connectTimeout(), peering.answerTimeout(), peering.retryMax(),
        peering.outboxMaxMessages(), peering.outboxMaxAge(), Optional.ofNullable(peering.tlsTrust()));
  }

  @Override
  public Ed25519Key serverKey() {
    return key.publicKey();
  }

  @Override
  public SignedMessage sign(JsonObject unsigned) {
    if (unsigned.has("signature") || unsigned.has("sender_pubkey")) {
      throw new IllegalArgumentException("a message to sign has neither signature nor sender_pubkey");
    }
    byte[] signature = key.sign(JsonWriter.canonical(unsigned));
    JsonObject signed = unsigned.toBuilder()
        .put("signature", new JsonString(Base64.getEncoder().encodeToString(signature)))
        .put("sender_pubkey", new JsonString(key.publicKeyBase64()))
        .build();
    Verdict verdict = verifier.check(signed);
    if (verdict instanceof Verdict.Verified verified) {
      return verified.message();
    }
    Verdict.Refused refused = (Verdict.Refused) verdict;
    throw new IllegalArgumentException("not a message: " + refused.code().wire() + ": " + refused.reason());
  }

  @Override
  public String channelBinding(Certificate serverCertificate) {
    if (!(serverCertificate instanceof X509Certificate certificate)) {
      throw new IllegalArgumentException("not an X.509 certificate: " + serverCertificate.getType());
    }
    return Base64.getEncoder().encodeToString(ChannelBinding.of(certificate));
  }

  @Override
  public Optional<Peer> configuredPeer(String domain) {
    return peering.peer(domain).map(p -> new Peer(p.domain(), p.host(), p.port(), p.pin()));
  }

  @Override
  public List<Endpoint> endpoints(String domain) {
    return endpoints.endpoints(domain);
  }

  @Override
  public Settings settings() {
    return settings;
  }

  @Override
  public List<String> outboxDomains() {
    return OutboxIndex.domains(storage.get());
  }

  @Override
  public List<Address> outboxAddresses(String domain) {
    return OutboxIndex.addresses(storage.get(), domain);
  }

  @Override
  public List<MailboxEntry> read(Address address, long afterCursor, int limit) {
    return storage.get().readMailbox(address, afterCursor, limit);
  }

  @Override
  public long lastCursor(Address address) {
    return storage.get().lastCursor(address);
  }
}
