package org.esmp.server.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.math.ec.rfc8032.Ed25519;
import org.esmp.api.Ed25519Key;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class Ed25519VerifierTest {

  private static final HexFormat HEX = HexFormat.of();
  private static final byte[] MESSAGE = "hello".getBytes(StandardCharsets.UTF_8);

  /** A key pair from a seed, with its signature over {@link #MESSAGE}. */
  private record Signed(Ed25519Key key, byte[] signature) {
    static Signed bySeed(long seed) {
      byte[] sk = new byte[Ed25519.SECRET_KEY_SIZE];
      new Random(seed).nextBytes(sk);
      byte[] pk = new byte[Ed25519.PUBLIC_KEY_SIZE];
      Ed25519.generatePublicKey(sk, 0, pk, 0);
      byte[] sig = new byte[Ed25519.SIGNATURE_SIZE];
      Ed25519.sign(sk, 0, MESSAGE, 0, MESSAGE.length, sig, 0);
      return new Signed(Ed25519Key.of(pk), sig);
    }
  }

  private static boolean verify(Ed25519Verifier verifier, Ed25519Key key, byte[] signature) {
    return verifier.verify(key, signature, MESSAGE, 0, MESSAGE.length);
  }

  @Test
  void acceptsAValidSignatureAndCachesItsKey() {
    Ed25519Verifier verifier = new Ed25519Verifier(8);
    Signed s = Signed.bySeed(1);
    assertTrue(verify(verifier, s.key(), s.signature()));
    assertTrue(verify(verifier, s.key(), s.signature()));
    assertEquals(1, verifier.cachedKeys());
  }

  @Test
  void verifiesOnlyTheGivenSliceOfTheMessage() {
    Ed25519Verifier verifier = new Ed25519Verifier(8);
    Signed s = Signed.bySeed(2);
    byte[] framed = new byte[MESSAGE.length + 6];
    System.arraycopy(MESSAGE, 0, framed, 3, MESSAGE.length);
    assertTrue(verifier.verify(s.key(), s.signature(), framed, 3, MESSAGE.length));
    assertFalse(verifier.verify(s.key(), s.signature(), framed, 2, MESSAGE.length));
    assertThrows(IndexOutOfBoundsException.class,
        () -> verifier.verify(s.key(), s.signature(), framed, 4, framed.length));
  }

  @Test
  void rejectsATamperedMessageOrSignature() {
    Ed25519Verifier verifier = new Ed25519Verifier(8);
    Signed s = Signed.bySeed(3);
    byte[] other = "hellO".getBytes(StandardCharsets.UTF_8);
    assertFalse(verifier.verify(s.key(), s.signature(), other, 0, other.length));
    byte[] flipped = s.signature().clone();
    flipped[10] ^= 1;
    assertFalse(verify(verifier, s.key(), flipped));
    assertFalse(verify(verifier, Signed.bySeed(4).key(), s.signature()));
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 63, 65, 128})
  void rejectsASignatureOfTheWrongLength(int length) {
    Ed25519Verifier verifier = new Ed25519Verifier(8);
    Signed s = Signed.bySeed(5);
    byte[] sig = new byte[length];
    System.arraycopy(s.signature(), 0, sig, 0, Math.min(length, s.signature().length));
    assertFalse(verify(verifier, s.key(), sig));
  }

  @ParameterizedTest
  @ValueSource(strings = {
      // y = 2: no x satisfies the curve equation.
      "0200000000000000000000000000000000000000000000000000000000000000",
      // y = p + 1, a non-canonical encoding of the identity's y.
      "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      // y = p, a non-canonical encoding of y = 0.
      "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      // The identity with the sign bit set: x = 0 has no negative.
      "0100000000000000000000000000000000000000000000000000000000000080"})
  void rejectsAKeyThatIsNotACanonicalCurvePoint(String keyHex) {
    Ed25519Verifier verifier = new Ed25519Verifier(8);
    Signed s = Signed.bySeed(6);
    Ed25519Key key = Ed25519Key.of(HEX.parseHex(keyHex));
    assertFalse(verify(verifier, key, s.signature()));
    assertFalse(verify(verifier, key, s.signature()));
    assertEquals(0, verifier.cachedKeys(), "invalid keys are not cached");
  }

  /**
   * The eight points of small order. Under such a key, R = identity and S = 0 satisfy the
   * verification equation for every message, so accepting the key would let anyone sign for it.
   */
  @ParameterizedTest
  @ValueSource(strings = {
      "0100000000000000000000000000000000000000000000000000000000000000",
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      "0000000000000000000000000000000000000000000000000000000000000000",
      "0000000000000000000000000000000000000000000000000000000000000080",
      "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
      "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
      "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
      "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"})
  void rejectsSmallOrderKeys(String keyHex) {
    Ed25519Verifier verifier = new Ed25519Verifier(8);
    byte[] identityAndZero = HEX.parseHex(
        "0100000000000000000000000000000000000000000000000000000000000000"
            + "0000000000000000000000000000000000000000000000000000000000000000");
    assertFalse(verify(verifier, Ed25519Key.of(HEX.parseHex(keyHex)), identityAndZero));
    assertEquals(0, verifier.cachedKeys());
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "0200000000000000000000000000000000000000000000000000000000000000", // not on the curve
      "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // non-canonical
      "0100000000000000000000000000000000000000000000000000000000000000", // small order (identity)
      "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // small order (8)
      "4b72aff85c68bf61b221a0bcdc5b5c588d606a98735d3ef7660032ca7e44f0bf"}) // mixed order
  void isValidKeyRefusesWhatVerifyRefuses(String keyHex) {
    Ed25519Verifier verifier = new Ed25519Verifier(8);
    assertFalse(verifier.isValidKey(Ed25519Key.of(HEX.parseHex(keyHex))));
    assertEquals(0, verifier.cachedKeys());
  }

  @Test
  void isValidKeyAcceptsAnHonestKeyAndCachesIt() {
    Ed25519Verifier verifier = new Ed25519Verifier(8);
    Signed s = Signed.bySeed(9);
    assertTrue(verifier.isValidKey(s.key()));
    assertEquals(1, verifier.cachedKeys());
    assertTrue(verify(verifier, s.key(), s.signature()));
  }

  /**
   * A mixed-order key: the public key of secret 07 00 .. 00 plus the order-8 point 26e8..05. Its
   * owner's signature passes Bouncy Castle's plain (cofactored) verify, but cofactorless verifiers
   * refuse it, so the server rejects the key outright.
   */
  @Test
  void rejectsAMixedOrderKeyThatPlainCofactoredVerificationAccepts() {
    byte[] pk = HEX.parseHex("4b72aff85c68bf61b221a0bcdc5b5c588d606a98735d3ef7660032ca7e44f0bf");
    byte[] sig = HEX.parseHex(
        "341197774b8fb8453c32dd0bc7820c7691133ad43361788bd1d90c8bdbb97862"
            + "08236f4b8b2e10053c586b4f218ee5ce6c9b3eecab5373e590e6dd5619020604");
    byte[] message = "mixed-order key".getBytes(StandardCharsets.UTF_8);
    assertTrue(Ed25519.verify(sig, 0, pk, 0, message, 0, message.length),
        "precondition: the signature is valid under cofactored verification");

    Ed25519Verifier verifier = new Ed25519Verifier(8);
    assertFalse(verifier.verify(Ed25519Key.of(pk), sig, message, 0, message.length));
    assertEquals(0, verifier.cachedKeys());
  }

  @Test
  void staysBoundedWhenFedManyDistinctKeys() {
    Ed25519Verifier verifier = new Ed25519Verifier(50);
    for (int i = 0; i < 500; i++) {
      Signed s = Signed.bySeed(1000 + i);
      assertTrue(verify(verifier, s.key(), s.signature()), "key " + i);
      assertTrue(verifier.cachedKeys() <= 50, "cache holds " + verifier.cachedKeys());
    }
    assertTrue(verifier.cachedKeys() >= 25, "the cache is used: " + verifier.cachedKeys());
  }

  @Test
  void evictedKeysStillVerify() {
    Ed25519Verifier verifier = new Ed25519Verifier(1);
    Signed a = Signed.bySeed(7);
    Signed b = Signed.bySeed(8);
    for (int i = 0; i < 3; i++) {
      assertTrue(verify(verifier, a.key(), a.signature()));
      assertTrue(verify(verifier, b.key(), b.signature()));
      assertFalse(verify(verifier, a.key(), b.signature()));
      assertEquals(1, verifier.cachedKeys());
    }
  }

  @Test
  void isCorrectAndBoundedUnderConcurrentUse() throws Exception {
    List<Signed> signed = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      signed.add(Signed.bySeed(2000 + i));
    }
    Ed25519Verifier verifier = new Ed25519Verifier(16);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int offset = t;
        results.add(pool.submit(() -> {
          boolean allRight = true;
          for (int i = 0; i < 200; i++) {
            Signed s = signed.get((i * 7 + offset) % signed.size());
            Signed other = signed.get((i * 7 + offset + 1) % signed.size());
            allRight &= verify(verifier, s.key(), s.signature());
            allRight &= !verify(verifier, s.key(), other.signature());
          }
          return allRight;
        }));
      }
      for (Future<Boolean> result : results) {
        assertTrue(result.get(60, TimeUnit.SECONDS));
      }
    } finally {
      pool.shutdownNow();
    }
    assertTrue(verifier.cachedKeys() <= 16, "cache holds " + verifier.cachedKeys());
  }

  @ParameterizedTest
  @ValueSource(ints = {0, -1})
  void refusesACapacityBelowOne(int capacity) {
    assertThrows(IllegalArgumentException.class, () -> new Ed25519Verifier(capacity));
  }
}
