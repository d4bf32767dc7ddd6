package org.esmp.client;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;

/**
 * An Ed25519 (RFC 8032) key pair, kept as its 32-byte seed. Immutable and thread-safe.
 */
public final class SigningKey {

  private final Ed25519PrivateKeyParameters key;
  private final byte[] publicKey;

  private SigningKey(Ed25519PrivateKeyParameters key) {
    this.key = key;
    this.publicKey = key.generatePublicKey().getEncoded();
  }

  /** A new key from the platform's strong random source. */
  public static SigningKey generate() {
    return new SigningKey(new Ed25519PrivateKeyParameters(new SecureRandom()));
  }

  /** The key with this 32-byte seed (RFC 8032's private key). */
  public static SigningKey fromSeed(byte[] seed) {
    if (seed.length != Ed25519PrivateKeyParameters.KEY_SIZE) {
      throw new IllegalArgumentException("an Ed25519 seed has 32 bytes, not " + seed.length);
    }
    return new SigningKey(new Ed25519PrivateKeyParameters(seed, 0));
  }

  /** The 32-byte seed; keep it secret. */
  public byte[] seed() {
    return key.getEncoded();
  }

  /** The raw 32-byte public key. */
  public byte[] publicKey() {
    return publicKey.clone();
  }

  /** The public key as ESMP writes it: standard padded base64. */
  public String publicKeyBase64() {
    return Base64.getEncoder().encodeToString(publicKey);
  }

  /** The 64-byte Ed25519 signature of {@code data}. */
  public byte[] sign(byte[] data) {
    Ed25519Signer signer = new Ed25519Signer();
    signer.init(true, key);
    signer.update(data, 0, data.length);
    return signer.generateSignature();
  }

  /**
   * Whether {@code signature} is a valid Ed25519 signature of {@code data} by {@code publicKey}
   * (both raw bytes). BouncyCastle's check is strict RFC 8032: a non-canonical {@code S} or a
   * public key that does not decode is a failure, never an exception.
   */
  public static boolean verify(byte[] publicKey, byte[] data, byte[] signature) {
    if (publicKey.length != Ed25519PublicKeyParameters.KEY_SIZE
        || signature.length != Ed25519PrivateKeyParameters.SIGNATURE_SIZE) {
      return false;
    }
    try {
      Ed25519Signer verifier = new Ed25519Signer();
      verifier.init(false, new Ed25519PublicKeyParameters(publicKey, 0));
      verifier.update(data, 0, data.length);
      return verifier.verifySignature(signature);
    } catch (IllegalArgumentException notAPoint) {
      return false;
    }
  }

  @Override
  public String toString() {
    return "SigningKey[" + publicKeyBase64() + "]"; // never the seed
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SigningKey k && Arrays.equals(publicKey, k.publicKey);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(publicKey);
  }
}
