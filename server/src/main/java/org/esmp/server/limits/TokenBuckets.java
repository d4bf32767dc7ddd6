package org.esmp.server.limits;

import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Token buckets, one per key (an IP, an address), each with one or more rates: a key may take up
 * to each rate's burst at once, and regains tokens at each rate continuously. A take either gets
 * every cost it asks for or nothing, and says how long to wait.
 *
 * <p>Memory is bounded: a bucket idle long enough to be full again is the same as no bucket, so
 * such buckets are dropped (swept when keys are added, at most once a second). At most
 * {@code maxKeys} keys are tracked; when that many buckets are all in use, a key not yet tracked is
 * refused until one is idle (fail closed: whoever floods with many keys cannot reset their own).
 *
 * <p>Thread-safe: each key's bucket changes atomically, keys do not block each other.
 *
 * @param <K> the key; its {@code equals} and {@code hashCode} decide who shares a bucket
 */
public final class TokenBuckets<K> {

  /** Keys tracked at most by the server's buckets (IPs or addresses; about 100 bytes each). */
  public static final int SERVER_KEYS = 100_000;
  /** What a key not yet tracked waits when every tracked bucket is in use. */
  static final long SATURATED_RETRY_MS = 1000;
  private static final long SWEEP_INTERVAL_NANOS = 1_000_000_000L;

  /**
   * One rate: {@code tokens} regained every {@code periodNanos}, at most {@code burst} held.
   *
   * @param tokens tokens regained per period, at least 1
   * @param periodNanos the period
   * @param burst the most tokens a key holds (and so may take at once), at least 1
   */
  public record Rate(long tokens, long periodNanos, long burst) {
    public Rate {
      if (tokens < 1 || periodNanos < 1 || burst < 1) {
        throw new IllegalArgumentException("a rate needs tokens, period and burst of at least 1");
      }
    }

    /** {@code tokens} per second, at most {@code burst} at once. */
    public static Rate perSecond(long tokens, long burst) {
      return new Rate(tokens, 1_000_000_000L, burst);
    }

    /** {@code tokens} per hour, at most as many at once. */
    public static Rate perHour(long tokens) {
      return new Rate(tokens, 3_600_000_000_000L, tokens);
    }

    double perNano() {
      return (double) tokens / periodNanos;
    }

    /** How long an empty bucket takes to be full. */
    long fillNanos() {
      return (long) Math.ceil(burst / perNano());
    }
  }

  /** A bucket: its tokens of each rate when last changed, at {@code at}. Never modified. */
  private record Bucket(double[] tokens, long at) {}

  private final Rate[] rates;
  private final int maxKeys;
  private final LongSupplier nanos;
  private final long fillNanos;
  private final ConcurrentHashMap<K, Bucket> buckets = new ConcurrentHashMap<>();
  private final AtomicLong lastSweep;

  /** Buckets as the server keeps them: at most {@value #SERVER_KEYS} keys, on the system's clock. */
  public static <K> TokenBuckets<K> ofServer(Rate... rates) {
    return new TokenBuckets<>(SERVER_KEYS, System::nanoTime, rates);
  }

  /**
   * @param maxKeys the most keys tracked at once
   * @param nanos a monotonic clock in nanoseconds, {@code System::nanoTime} outside tests
   * @param rates every rate a take is checked against; each take gives one cost per rate
   */
  public TokenBuckets(int maxKeys, LongSupplier nanos, Rate... rates) {
    if (maxKeys < 1 || rates.length == 0) {
      throw new IllegalArgumentException("needs maxKeys of at least 1 and at least one rate");
    }
    this.rates = rates.clone();
    this.maxKeys = maxKeys;
    this.nanos = Objects.requireNonNull(nanos, "nanos");
    this.fillNanos = Arrays.stream(rates).mapToLong(Rate::fillNanos).max().getAsLong();
    this.lastSweep = new AtomicLong(nanos.getAsLong());
  }

  /**
   * Takes {@code costs} (one per rate, in the constructor's order) from {@code key}'s bucket if it
   * holds them all, else nothing.
   *
   * @return 0 when taken, else the milliseconds (at least 1) until the bucket will hold them
   * @throws IllegalArgumentException when a cost exceeds its rate's burst: it could never be taken
   */
  public long take(K key, long... costs) {
    if (costs.length != rates.length) {
      throw new IllegalArgumentException("one cost per rate: " + rates.length + " expected");
    }
    for (int i = 0; i < costs.length; i++) {
      if (costs[i] < 0 || costs[i] > rates[i].burst()) {
        throw new IllegalArgumentException("cost " + costs[i] + " is not within 0.." + rates[i].burst());
      }
    }
    long now = nanos.getAsLong();
    if (!buckets.containsKey(key) && !roomFor(now)) {
      return SATURATED_RETRY_MS;
    }
    long[] waitNanos = {0};
    buckets.compute(key, (k, bucket) -> {
      double[] tokens = new double[rates.length];
      long elapsed = bucket == null ? 0 : Math.max(0, now - bucket.at());
      for (int i = 0; i < rates.length; i++) {
        tokens[i] = bucket == null ? rates[i].burst()
            : Math.min(rates[i].burst(), bucket.tokens()[i] + elapsed * rates[i].perNano());
        if (tokens[i] < costs[i]) {
          waitNanos[0] = Math.max(waitNanos[0], (long) Math.ceil((costs[i] - tokens[i]) / rates[i].perNano()));
        }
      }
      if (waitNanos[0] > 0) {
        return bucket; // refused: nothing taken
      }
      for (int i = 0; i < rates.length; i++) {
        tokens[i] -= costs[i];
      }
      return new Bucket(tokens, now);
    });
    return waitNanos[0] == 0 ? 0 : Math.max(1, (waitNanos[0] + 999_999) / 1_000_000);
  }

  /** The number of keys tracked now (some may be idle, not yet swept). */
  public int size() {
    return buckets.size();
  }

  /** Whether a new key may be tracked: sweeps idle buckets first when due. */
  private boolean roomFor(long now) {
    boolean full = buckets.size() >= maxKeys;
    long last = lastSweep.get();
    // Sweeps when full, else once the oldest possible bucket could have filled up; at most once a second.
    long interval = full ? SWEEP_INTERVAL_NANOS : Math.max(SWEEP_INTERVAL_NANOS, fillNanos);
    if (now - last >= interval && lastSweep.compareAndSet(last, now)) {
      buckets.values().removeIf(bucket -> now - bucket.at() >= fillNanos);
    }
    return buckets.size() < maxKeys;
  }
}
