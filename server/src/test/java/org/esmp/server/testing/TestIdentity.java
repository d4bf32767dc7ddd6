package org.esmp.server.testing;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.esmp.api.json.JsonObject;
import org.esmp.json.JsonWriter;

/** An Ed25519 key pair that signs ESMP messages the way a client does. */
public final class TestIdentity {

  private final Ed25519PrivateKeyParameters key;
  private final String publicKey;

  private TestIdentity(Ed25519PrivateKeyParameters key) {
    this.key = key;
    this.publicKey = Base64.getEncoder().encodeToString(key.generatePublicKey().getEncoded());
  }

  /** A fresh random identity. */
  public static TestIdentity random() {
    return new TestIdentity(new Ed25519PrivateKeyParameters(new SecureRandom()));
  }

  /** The identity of a 32-byte seed given in hex. */
  public static TestIdentity fromSeed(String seedHex) {
    return new TestIdentity(new Ed25519PrivateKeyParameters(HexFormat.of().parseHex(seedHex), 0));
  }

  /** The public key, standard padded base64. */
  public String publicKey() {
    return publicKey;
  }

  /** Signs {@code unsigned} over its RFC 8785 form and returns the full message object. */
  public JsonObject sign(JsonObject unsigned) {
    byte[] signingBytes = JsonWriter.canonical(unsigned);
    Ed25519Signer signer = new Ed25519Signer();
    signer.init(true, key);
    signer.update(signingBytes, 0, signingBytes.length);
    String signature = Base64.getEncoder().encodeToString(signer.generateSignature());
    return unsigned.toBuilder().put("signature", signature).put("sender_pubkey", publicKey).build();
  }

  /** This key's Ed25519 signature over {@code bytes}, standard padded base64. */
  public String signBytes(byte[] bytes) {
    Ed25519Signer signer = new Ed25519Signer();
    signer.init(true, key);
    signer.update(bytes, 0, bytes.length);
    return Base64.getEncoder().encodeToString(signer.generateSignature());
  }

  /**
   * The message id of {@code signed} (ESMP/1 section 2.1): lowercase hex SHA-256 of its raw {@code
   * sender_pubkey} followed by its signing bytes; the {@code re} of its answer.
   */
  public static String id(JsonObject signed) {
    try {
      java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
      sha.update(Base64.getDecoder().decode(signed.string("sender_pubkey").orElseThrow()));
      sha.update(JsonWriter.canonicalWithout(signed, "signature", "sender_pubkey"));
      return HexFormat.of().formatHex(sha.digest());
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Signs {@code unsigned} and returns the frame line, without its newline. */
  public String frame(JsonObject unsigned) {
    return new String(JsonWriter.write(sign(unsigned)), java.nio.charset.StandardCharsets.UTF_8);
  }
}
