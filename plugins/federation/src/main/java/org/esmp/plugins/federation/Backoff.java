package org.esmp.plugins.federation;

import java.time.Duration;
import java.util.Random;

/**
 * How long to wait before trying a peer again: exponential from {@link #FIRST}, doubling with each
 * failure up to the operator's {@code federation_retry_max_seconds}, each wait drawn at random from
 * the upper half of its step (jitter) so that servers that lost a peer together do not all come
 * back in the same second. Used by one thread.
 */
final class Backoff {

  /** The first step. */
  static final Duration FIRST = Duration.ofSeconds(1);

  private final long firstMillis;
  private final long capMillis;
  private final Random random;
  private int failures;

  Backoff(Duration first, Duration cap, Random random) {
    this.firstMillis = Math.max(1, first.toMillis());
    this.capMillis = Math.max(1, cap.toMillis());
    this.random = random;
  }

  Backoff(Duration cap) {
    this(FIRST, cap, new Random());
  }

  /** The wait after one more failure: in [step/2, step], step = min(cap, first·2^failures). */
  long nextMillis() {
    long step = firstMillis << Math.min(failures, 40);
    step = step <= 0 ? capMillis : Math.min(capMillis, step);
    failures++;
    return step - random.nextLong(step / 2 + 1);
  }

  /**
   * The wait the peer asked for with {@code rate_limited}: at least {@code retryAfterMillis}, plus up
   * to a tenth more. Not a failure of the peer: the steps do not grow.
   */
  long rateLimitedMillis(long retryAfterMillis) {
    long wait = Math.max(1, retryAfterMillis);
    return wait + random.nextLong(wait / 10 + 1);
  }

  /** The peer answered: the next failure starts from the first step again. */
  void reset() {
    failures = 0;
  }
}
