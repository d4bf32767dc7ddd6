package org.esmp.server.bench;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.esmp.api.Ed25519Key;
import org.esmp.server.crypto.Ed25519Verifier;
import org.esmp.server.testing.TestIdentity;

/**
 * Ed25519 verifications per second on one thread, as the server verifies (its
 * {@link Ed25519Verifier}, the key decoded once and cached), to set beside
 * {@code openssl speed -seconds 3 ed25519}'s one-core verify rate (docs/PERFORMANCE.md).
 *
 * <p>Run: {@code java -cp <server test classpath> org.esmp.server.bench.VerifyBenchmark [rounds] [ms]}
 * (the classpath as for {@link CanonicalJsonBenchmark}).
 */
public final class VerifyBenchmark {

  private VerifyBenchmark() {}

  public static void main(String[] args) {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 6;
    long millis = args.length > 1 ? Long.parseLong(args[1]) : 3000;
    TestIdentity signer = TestIdentity.random();
    byte[] message = "a frame's signing bytes, about three hundred of them ".repeat(6).getBytes(StandardCharsets.UTF_8);
    byte[] signature = Base64.getDecoder().decode(signer.signBytes(message));
    Ed25519Key key = Ed25519Key.of(Base64.getDecoder().decode(signer.publicKey()));
    Ed25519Verifier verifier = new Ed25519Verifier(16);
    for (int round = 1; round <= rounds; round++) {
      long start = System.nanoTime();
      long end = start + millis * 1_000_000;
      long count = 0;
      while (System.nanoTime() < end) {
        if (!verifier.verify(key, signature, message, 0, message.length)) {
          throw new IllegalStateException("a good signature did not verify");
        }
        count++;
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      System.out.printf("round %d: %,.0f verifications/s, %.1f µs each%n", round, count / seconds, seconds * 1e6 / count);
    }
  }
}
