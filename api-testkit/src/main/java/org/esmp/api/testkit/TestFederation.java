package org.esmp.api.testkit;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import org.esmp.api.Address;
import org.esmp.api.Ed25519Key;
import org.esmp.api.JsonCodec;
import org.esmp.api.MailboxEntry;
import org.esmp.api.MessageId;
import org.esmp.api.SignedMessage;
import org.esmp.api.Writes;
import org.esmp.api.federation.Federation;
import org.esmp.api.json.JsonNull;
import org.esmp.api.json.JsonNumber;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonValue;
import org.esmp.api.spi.StorageChange;

/**
 * The server's {@link Federation} for a federation plugin's unit tests, over an {@link
 * InMemoryStorage}: a real Ed25519 server key that {@link #sign} signs with exactly as ESMP/1
 * section 2.1 says (so {@link #verifies} and a peer can check it), configured peers, settings, and
 * an outbox: {@link #append} puts an entry into a remote address's mailbox in the storage and
 * remembers the address, as the server does when a delivery plugin appends for another domain.
 * Give it to {@link TestContext.Builder#federation}. Thread-safe.
 */
public final class TestFederation implements Federation {

  /** The DER prefix of an X.509 SubjectPublicKeyInfo of an Ed25519 key (RFC 8410), before the 32 raw bytes. */
  private static final byte[] SPKI_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

  private final KeyPair keys;
  private final Ed25519Key serverKey;
  private final Map<String, Peer> peers;
  private final Settings settings;
  private final InMemoryStorage storage;
  private final JsonCodec json;
  private final Map<String, Set<Address>> outbox = new LinkedHashMap<>();

  private TestFederation(Builder b) {
    this.keys = newKeyPair();
    this.serverKey = Ed25519Key.of(raw(keys.getPublic()));
    this.peers = Map.copyOf(b.peers);
    this.settings = b.settings;
    this.storage = b.storage;
    this.json = b.json;
  }

  /** A federation over {@code storage}, the one the plugin's {@link TestContext} uses. */
  public static Builder builder(InMemoryStorage storage) {
    return new Builder(storage);
  }

  /** A new Ed25519 key pair (for a test's fake peer). */
  public static KeyPair newKeyPair() {
    try {
      return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("no Ed25519 in this JDK", e);
    }
  }

  /** The raw 32 bytes of an Ed25519 public key of the JDK. */
  public static byte[] raw(PublicKey key) {
    byte[] encoded = key.getEncoded();
    return Arrays.copyOfRange(encoded, encoded.length - Ed25519Key.LENGTH, encoded.length);
  }

  /**
   * Appends {@code entry} to the outbox of {@code address}, an address of another domain, in one
   * commit; returns its cursor.
   */
  public long append(Address address, MailboxEntry entry) {
    long cursor = storage.commit(StorageChange.builder().writes(Writes.builder().append(address, entry).build())
        .build()).toCompletableFuture().join().get(0);
    synchronized (outbox) {
      outbox.computeIfAbsent(address.domain(), d -> new TreeSet<>(
          (a, c) -> a.toString().compareTo(c.toString()))).add(address);
    }
    return cursor;
  }

  /**
   * Whether {@code signed}, a message object with {@code signature} and {@code sender_pubkey}, verifies:
   * its signing bytes (RFC 8785, without those two members) under its {@code sender_pubkey}.
   */
  public boolean verifies(JsonObject signed) {
    try {
      byte[] key = Base64.getDecoder().decode(signed.string("sender_pubkey").orElseThrow());
      byte[] signature = Base64.getDecoder().decode(signed.string("signature").orElseThrow());
      Signature verifier = Signature.getInstance("Ed25519");
      verifier.initVerify(publicKey(key));
      verifier.update(signingBytes(signed));
      return verifier.verify(signature);
    } catch (GeneralSecurityException | RuntimeException e) {
      return false;
    }
  }

  /** The message id of {@code signed}: SHA-256 of its raw key and signing bytes (ESMP/1 section 2.1). */
  public MessageId idOf(JsonObject signed) {
    byte[] key = Base64.getDecoder().decode(signed.string("sender_pubkey").orElseThrow());
    return id(key, signingBytes(signed));
  }

  private byte[] signingBytes(JsonObject message) {
    return json.canonical(message.toBuilder().remove("signature").remove("sender_pubkey").build());
  }

  private static MessageId id(byte[] key, byte[] signingBytes) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(key);
      return new MessageId(HexFormat.of().formatHex(sha.digest(signingBytes)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static PublicKey publicKey(byte[] raw) throws GeneralSecurityException {
    byte[] spki = Arrays.copyOf(SPKI_PREFIX, SPKI_PREFIX.length + raw.length);
    System.arraycopy(raw, 0, spki, SPKI_PREFIX.length, raw.length);
    return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
  }

  @Override
  public Ed25519Key serverKey() {
    return serverKey;
  }

  @Override
  public SignedMessage sign(JsonObject unsigned) {
    byte[] bytes = json.canonical(unsigned);
    byte[] signature;
    try {
      Signature signer = Signature.getInstance("Ed25519");
      signer.initSign(keys.getPrivate());
      signer.update(bytes);
      signature = signer.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
    JsonObject fields = unsigned.toBuilder()
        .put("signature", Base64.getEncoder().encodeToString(signature))
        .put("sender_pubkey", serverKey.base64())
        .build();
    List<Address> to = new ArrayList<>();
    JsonValue toValue = unsigned.get("to");
    if (toValue != null && toValue.asArray() != null) {
      toValue.asArray().forEach(a -> to.add(Address.parse(a.asString())));
    }
    JsonValue body = unsigned.get("body");
    OptionalLong ts = unsigned.get("ts") instanceof JsonNumber n ? OptionalLong.of(n.longValue()) : OptionalLong.empty();
    return new SignedMessage(id(serverKey.bytes(), bytes), unsigned.string("type").orElseThrow(), to, List.of(),
        unsigned.string("group_id"), body == null ? JsonNull.INSTANCE : body, ts, serverKey, fields);
  }

  /** SHA-256 of the certificate (SHA-384 or SHA-512 when it is signed with that), base64: RFC 5929 section 4.1. */
  @Override
  public String channelBinding(Certificate serverCertificate) {
    String algorithm = serverCertificate instanceof X509Certificate x
        ? x.getSigAlgName().toUpperCase(Locale.ROOT) : "";
    String hash = algorithm.contains("SHA512") ? "SHA-512" : algorithm.contains("SHA384") ? "SHA-384" : "SHA-256";
    try {
      return Base64.getEncoder().encodeToString(MessageDigest.getInstance(hash).digest(serverCertificate.getEncoded()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public Optional<Peer> configuredPeer(String domain) {
    return Optional.ofNullable(peers.get(domain));
  }

  @Override
  public List<Endpoint> endpoints(String domain) {
    Peer peer = peers.get(domain);
    return List.of(peer != null ? new Endpoint(peer.host(), peer.port()) : new Endpoint(domain, 5888));
  }

  @Override
  public Settings settings() {
    return settings;
  }

  @Override
  public List<String> outboxDomains() {
    synchronized (outbox) {
      return List.copyOf(outbox.keySet());
    }
  }

  @Override
  public List<Address> outboxAddresses(String domain) {
    synchronized (outbox) {
      return List.copyOf(outbox.getOrDefault(domain, Set.of()));
    }
  }

  @Override
  public List<MailboxEntry> read(Address address, long afterCursor, int limit) {
    return storage.readMailbox(address, afterCursor, limit);
  }

  @Override
  public long lastCursor(Address address) {
    return storage.lastCursor(address);
  }

  /** Builds a federation. */
  public static final class Builder {
    private final InMemoryStorage storage;
    private final Map<String, Peer> peers = new LinkedHashMap<>();
    private Settings settings = new Settings(Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(2),
        100_000, Duration.ofHours(168), Optional.empty());
    private JsonCodec json = new TestJsonCodec();

    private Builder(InMemoryStorage storage) {
      this.storage = Objects.requireNonNull(storage, "storage");
    }

    /** A configured peer ({@code peers} in esmp.yaml). */
    public Builder peer(Peer peer) {
      peers.put(peer.domain(), peer);
      return this;
    }

    /**
     * The settings; by default connect and answer timeouts of 5 s, retries at most 2 s apart, 100,000
     * entries and 168 hours.
     */
    public Builder settings(Settings value) {
      settings = Objects.requireNonNull(value, "settings");
      return this;
    }

    public TestFederation build() {
      return new TestFederation(this);
    }
  }

  @Override
  public String toString() {
    return "TestFederation[" + serverKey + "]";
  }
}
