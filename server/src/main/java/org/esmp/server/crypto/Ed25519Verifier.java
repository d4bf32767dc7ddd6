package org.esmp.server.crypto;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.Objects;
import org.bouncycastle.math.ec.rfc8032.Ed25519;
import org.esmp.api.Ed25519Key;

/**
 * Verifies Ed25519 signatures (RFC 8032, pure Ed25519, no context) as ESMP/1 section 2.1 requires,
 * keeping recently used public keys decoded and validated in a bounded cache.
 *
 * <p>What is rejected ({@link #verify} returns false):
 * <ul>
 *   <li>a signature that is not exactly 64 bytes;
 *   <li>a non-canonical {@code S} (S &ge; L, the group order) or a non-canonical encoding of
 *       {@code R} (y &ge; p), so signatures are not malleable;
 *   <li>a public key that does not decode to a curve point, or whose encoding is non-canonical;
 *   <li>a public key of small order (one of the eight torsion points, e.g. the identity), for
 *       which anyone can forge signatures;
 *   <li>a public key of mixed order (a prime-order point plus a torsion component).
 * </ul>
 * Rejecting mixed-order keys goes beyond the letter of RFC 8032, which accepts them. Honest RFC
 * 8032 key generation never produces one, and cofactored verifiers (Bouncy Castle's among them)
 * accept signatures under such keys that cofactorless verifiers refuse; since recipients re-verify
 * delivered messages with libraries of either kind, the server accepts only keys on which every
 * conformant verifier agrees. The check costs a scalar multiplication, paid once per cached key.
 *
 * <p>Caching: at most {@code capacity} validated keys are held (Caffeine). Which key goes when the
 * cache is full is Caffeine's W-TinyLFU choice, by recency and frequency: a flood of keys each
 * used once (new senders, or a sender churning keys) does not, as a rule, push out the keys in
 * steady use.
 * Invalid keys are not cached: rejecting one costs less than verifying a signature under a cached
 * key, so a sender repeating an invalid key gains nothing over one sending bad signatures, and
 * garbage keys never displace good ones.
 *
 * <p>Thread-safe: one instance is meant to be shared by all connections.
 */
public final class Ed25519Verifier {

  /** Length of an Ed25519 signature: R (32 bytes) followed by S (32 bytes). */
  public static final int SIGNATURE_LENGTH = Ed25519.SIGNATURE_SIZE;

  private final Cache<Ed25519Key, Ed25519.PublicPoint> points;

  /**
   * A verifier caching at most {@code capacity} decoded public keys.
   *
   * @throws IllegalArgumentException when {@code capacity} is below 1
   */
  public Ed25519Verifier(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("cache capacity must be at least 1, got " + capacity);
    }
    // Eviction runs on the thread that added a key, not on ForkJoinPool.commonPool() (which plugin
    // code may keep busy): a put that takes the cache past its bound evicts before it returns,
    // unless another thread is evicting at that moment.
    this.points = Caffeine.newBuilder().maximumSize(capacity).executor(Runnable::run).build();
    // Builds Bouncy Castle's shared base-point tables now rather than inside the first verify.
    Ed25519.precompute();
  }

  /**
   * Whether {@code signature} is a valid Ed25519 signature by {@code key} over
   * {@code message[off, off + len)}. Never throws for bad input data: a malformed signature or key
   * is simply false.
   *
   * @throws NullPointerException when an argument is null
   * @throws IndexOutOfBoundsException when {@code off} and {@code len} do not lie within
   *     {@code message}
   */
  public boolean verify(Ed25519Key key, byte[] signature, byte[] message, int off, int len) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(signature, "signature");
    Objects.checkFromIndexSize(off, len, Objects.requireNonNull(message, "message").length);
    if (signature.length != SIGNATURE_LENGTH) {
      return false;
    }
    Ed25519.PublicPoint point = point(key);
    if (point == null) {
      return false;
    }
    // Bouncy Castle itself rejects S >= L and a non-canonical R before any curve arithmetic.
    return Ed25519.verify(signature, 0, point, message, off, len);
  }

  /**
   * Whether {@code key} is a key this verifier accepts signatures under: a canonical encoding of a
   * curve point of prime order (none of the rejected keys listed above). A valid key is cached.
   *
   * @throws NullPointerException when {@code key} is null
   */
  public boolean isValidKey(Ed25519Key key) {
    return point(Objects.requireNonNull(key, "key")) != null;
  }

  /** The decoded point of {@code key}, validated and cached; null when the key is not acceptable. */
  private Ed25519.PublicPoint point(Ed25519Key key) {
    Ed25519.PublicPoint point = points.getIfPresent(key);
    if (point == null) {
      // Full validation: canonical encoding, on the curve, and in the prime-order subgroup (which
      // excludes small- and mixed-order points). Two threads may both validate a new key; the
      // result is the same, so the duplicate work is harmless; validating inside Caffeine's
      // get(key, loader) instead would hold a lock of its hash table for a scalar multiplication.
      point = Ed25519.validatePublicKeyFullExport(key.bytes(), 0);
      if (point != null) {
        points.put(key, point);
      }
    }
    return point;
  }

  /**
   * The number of keys cached once pending evictions are done; at most the capacity given at
   * construction.
   */
  int cachedKeys() {
    points.cleanUp();
    return Math.toIntExact(points.estimatedSize());
  }
}
