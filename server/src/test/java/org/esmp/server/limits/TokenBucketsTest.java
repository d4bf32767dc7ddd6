package org.esmp.server.limits;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.esmp.server.limits.TokenBuckets.Rate;
import org.junit.jupiter.api.Test;

class TokenBucketsTest {

  /** A clock the test moves. */
  private long now = 1_000_000_000_000L;

  private void advanceMillis(long ms) {
    now += TimeUnit.MILLISECONDS.toNanos(ms);
  }

  @Test
  void allowsTheBurstThenRefusesWithTheTimeUntilATokenIsBack() {
    TokenBuckets<String> buckets = new TokenBuckets<>(10, () -> now, Rate.perSecond(10, 5));
    for (int i = 0; i < 5; i++) {
      assertEquals(0, buckets.take("a", 1), "within the burst: " + i);
    }
    assertEquals(100, buckets.take("a", 1), "one token per 100 ms");
    advanceMillis(60);
    assertEquals(40, buckets.take("a", 1), "a refusal takes nothing and counts from where the bucket is");
    advanceMillis(40);
    assertEquals(0, buckets.take("a", 1));
    assertEquals(100, buckets.take("a", 1));
  }

  @Test
  void refillsAtTheRateUpToTheBurstOnly() {
    TokenBuckets<String> buckets = new TokenBuckets<>(10, () -> now, Rate.perSecond(10, 5));
    for (int i = 0; i < 5; i++) {
      buckets.take("a", 1);
    }
    advanceMillis(60_000); // a minute idle refills 5, not 600
    for (int i = 0; i < 5; i++) {
      assertEquals(0, buckets.take("a", 1));
    }
    assertEquals(100, buckets.take("a", 1));
  }

  @Test
  void keysHaveTheirOwnBuckets() {
    TokenBuckets<String> buckets = new TokenBuckets<>(10, () -> now, Rate.perSecond(1, 1));
    assertEquals(0, buckets.take("a", 1));
    assertEquals(1000, buckets.take("a", 1));
    assertEquals(0, buckets.take("b", 1), "a's emptiness is not b's");
  }

  @Test
  void takesEveryCostOrNone() {
    // 10 frames/s (burst 10), 1000 bytes/s (burst 1000)
    TokenBuckets<String> buckets = new TokenBuckets<>(10, () -> now, Rate.perSecond(10, 10), Rate.perSecond(1000, 1000));
    assertEquals(0, buckets.take("a", 1, 900));
    assertEquals(500, buckets.take("a", 1, 600), "100 bytes left, 500 more take 500 ms");
    // The refusal took no frame: 9 frames of 10 bytes each still pass (the last 100 bytes).
    for (int i = 0; i < 9; i++) {
      assertEquals(0, buckets.take("a", 1, 10), "frame " + i);
    }
    assertEquals(100, buckets.take("a", 1, 10), "frames are out first now: 100 ms to the next");
  }

  @Test
  void hourlyRatesWaitMinutes() {
    TokenBuckets<String> buckets = new TokenBuckets<>(10, () -> now, Rate.perHour(20));
    for (int i = 0; i < 20; i++) {
      assertEquals(0, buckets.take("ip", 1));
    }
    assertEquals(TimeUnit.MINUTES.toMillis(3), buckets.take("ip", 1), "one more every 3 minutes");
    advanceMillis(TimeUnit.MINUTES.toMillis(3));
    assertEquals(0, buckets.take("ip", 1));
  }

  @Test
  void refusesACostThatCouldNeverBeTaken() {
    TokenBuckets<String> buckets = new TokenBuckets<>(10, () -> now, Rate.perSecond(10, 5));
    assertThrows(IllegalArgumentException.class, () -> buckets.take("a", 6));
    assertThrows(IllegalArgumentException.class, () -> buckets.take("a", 1, 1), "one cost per rate");
  }

  @Test
  void dropsIdleBucketsSoMemoryStaysBounded() {
    TokenBuckets<Integer> buckets = new TokenBuckets<>(1000, () -> now, Rate.perSecond(1, 2));
    for (int i = 0; i < 500; i++) {
      buckets.take(i, 1);
    }
    assertEquals(500, buckets.size());
    advanceMillis(2_000); // an emptied bucket of burst 2 at 1/s is full again after 2 s: same as none
    buckets.take(-1, 1); // a new key sweeps
    assertEquals(1, buckets.size());
  }

  @Test
  void whenEveryTrackedBucketIsInUseANewKeyIsRefusedUntilOneIsIdle() {
    TokenBuckets<Integer> buckets = new TokenBuckets<>(3, () -> now, Rate.perSecond(1, 2));
    for (int i = 0; i < 3; i++) {
      assertEquals(0, buckets.take(i, 1));
    }
    assertEquals(TokenBuckets.SATURATED_RETRY_MS, buckets.take(99, 1), "fail closed: no fresh bucket for a new key");
    assertEquals(0, buckets.take(0, 1), "tracked keys go on");
    assertEquals(3, buckets.size());
    advanceMillis(2_000);
    assertEquals(0, buckets.take(99, 1), "idle buckets swept: room again");
    assertEquals(1, buckets.size());
  }

  @Test
  void ipv6AddressesShareTheirSlash64() throws Exception {
    InetAddress a = IpKeys.of(new InetSocketAddress(InetAddress.getByName("2001:db8:1:2:aaaa::1"), 1));
    InetAddress b = IpKeys.of(new InetSocketAddress(InetAddress.getByName("2001:db8:1:2:bbbb::9"), 2));
    InetAddress other = IpKeys.of(new InetSocketAddress(InetAddress.getByName("2001:db8:1:3::1"), 3));
    assertEquals(a, b);
    assertEquals(InetAddress.getByName("2001:db8:1:2::"), a);
    assertEquals(false, a.equals(other));
    InetAddress v4 = InetAddress.getByName("192.0.2.7");
    assertEquals(v4, IpKeys.of(new InetSocketAddress(v4, 4)));
  }
}
