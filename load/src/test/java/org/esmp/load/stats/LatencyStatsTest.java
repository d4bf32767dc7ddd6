package org.esmp.load.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class LatencyStatsTest {

  private static final long MS = 1_000_000;

  @Test
  void percentilesOfOneToAThousandMilliseconds() {
    LatencyStats stats = new LatencyStats();
    List<Integer> shuffled = new ArrayList<>(IntStream.rangeClosed(1, 1000).boxed().toList());
    Collections.shuffle(shuffled, new Random(7));
    shuffled.forEach(ms -> stats.record(ms * MS));

    LatencyStats.Summary s = stats.summary();

    assertEquals(1000, s.count());
    // three significant digits: each within 0.1% of the exact percentile
    assertEquals(500, s.p50(), 0.5);
    assertEquals(990, s.p99(), 1.0);
    assertEquals(999, s.p999(), 1.0);
    assertEquals(1000, s.max(), 1.0);
    assertEquals(500.5, s.mean(), 0.5);
  }

  @Test
  void aTailShowsOnlyAboveItsPercentile() {
    LatencyStats stats = new LatencyStats();
    for (int i = 0; i < 9_980; i++) {
      stats.record(2 * MS);
    }
    for (int i = 0; i < 20; i++) {
      stats.record(300 * MS); // 0.2% of samples
    }

    LatencyStats.Summary s = stats.summary();

    assertEquals(2, s.p50(), 0.01);
    assertEquals(2, s.p99(), 0.01);
    assertEquals(300, s.p999(), 0.3);
  }

  @Test
  void keepsMicrosecondResolution() {
    LatencyStats stats = new LatencyStats();
    stats.record(1_234_567); // 1.234567 ms

    assertEquals(1.234, stats.summary().p50(), 0.002);
  }

  @Test
  void nothingRecordedIsAllZeroAndANegativeLatencyIsZero() {
    assertEquals(new LatencyStats.Summary(0, 0, 0, 0, 0, 0), new LatencyStats().summary());

    LatencyStats stats = new LatencyStats();
    stats.record(-5_000);
    assertEquals(0, stats.summary().max());
  }

  @Test
  void recordsFromManyThreads() throws InterruptedException {
    LatencyStats stats = new LatencyStats();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      Thread thread = new Thread(() -> {
        for (int i = 0; i < 10_000; i++) {
          stats.record(MS);
        }
      });
      threads.add(thread);
      thread.start();
    }
    for (Thread thread : threads) {
      thread.join();
    }

    assertEquals(40_000, stats.count());
  }
}
