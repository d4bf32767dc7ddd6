package org.esmp.load.net;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.esmp.load.stats.LatencyStats;

/**
 * The {@code deliver} frames received by a scenario's connections: how many, when the last came,
 * and, while {@link #measure measuring}, each delivery's latency from its message's send time on
 * the same clock (the sender and the recipients are in this JVM). Thread-safe: every reader thread
 * reports here.
 */
public final class DeliveryTracker {

  private final LongAdder count = new LongAdder();
  private final AtomicLong lastNanos = new AtomicLong();
  private volatile Expected expected;

  private record Sent(Batch batch, int k) {}

  private record Expected(Map<String, Sent> byId, LatencyStats latency) {}

  /** Called by a reader thread for each {@code deliver}. */
  void delivered(String id, long nanos) {
    count.increment();
    lastNanos.accumulateAndGet(nanos, Math::max);
    Expected now = expected;
    if (now != null && id != null) {
      Sent sent = now.byId.get(id);
      if (sent != null) {
        long at = sent.batch.sentNanos(sent.k);
        if (at != 0) {
          now.latency.record(nanos - at);
        }
      }
    }
  }

  /** From now on, records the send-to-delivery latency of the messages of {@code batches}. */
  public void measure(List<Batch> batches, LatencyStats latency) {
    Map<String, Sent> byId = new HashMap<>();
    for (Batch batch : batches) {
      batch.indexById().forEach((id, k) -> byId.put(id, new Sent(batch, k)));
    }
    expected = new Expected(byId, latency);
  }

  /** Stops recording latencies. */
  public void stopMeasuring() {
    expected = null;
  }

  /** Deliveries received so far. */
  public long count() {
    return count.sum();
  }

  /** When the last delivery arrived ({@link System#nanoTime}); 0 before any. */
  public long lastNanos() {
    return lastNanos.get();
  }

  /** Waits until {@link #count} reaches {@code target}; false at {@code deadlineNanos}. */
  public boolean awaitCount(long target, long deadlineNanos) throws InterruptedException {
    while (count.sum() < target) {
      if (System.nanoTime() - deadlineNanos > 0) {
        return false;
      }
      Thread.sleep(2);
    }
    return true;
  }
}
