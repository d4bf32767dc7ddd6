package org.esmp.load.net;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.esmp.load.stats.LatencyStats;

/**
 * Pre-signed frames one {@link Pipeline} writes, and what became of them: when each was sent,
 * how many were acked or refused, the time of the last answer, send-to-answer latencies. The
 * writer thread records sends and the pipeline's reader thread answers (in order: ESMP answers on
 * one connection come in the order of the messages).
 */
public final class Batch {

  private final List<SignedFrame> frames;
  private final LatencyStats ackLatency;
  private final AtomicLongArray sentNanos;
  private final AtomicInteger answers = new AtomicInteger();
  private final AtomicLong acked = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private final CountDownLatch done;
  private volatile long lastAnswerNanos;
  private volatile String firstErrorCode;
  private volatile String failure;

  /**
   * @param ackLatency where each acked frame's send-to-ack latency goes, or null
   */
  public Batch(List<SignedFrame> frames, LatencyStats ackLatency) {
    this.frames = List.copyOf(frames);
    this.ackLatency = ackLatency;
    this.sentNanos = new AtomicLongArray(frames.size());
    this.done = new CountDownLatch(frames.size());
  }

  public int size() {
    return frames.size();
  }

  SignedFrame frame(int k) {
    return frames.get(k);
  }

  void sent(int k, long nanos) {
    sentNanos.set(k, nanos);
  }

  /** When frame {@code k} was sent (or due, when paced); 0 before. */
  public long sentNanos(int k) {
    return sentNanos.get(k);
  }

  /** The position of each frame by its id, for matching deliveries to sends. */
  public Map<String, Integer> indexById() {
    Map<String, Integer> index = new HashMap<>(frames.size() * 2);
    for (int k = 0; k < frames.size(); k++) {
      index.put(frames.get(k).id(), k);
    }
    return index;
  }

  void answered(long nanos, String errorCode) {
    int k = answers.getAndIncrement();
    if (k >= frames.size()) {
      return; // not ours: a pipeline runs one batch at a time
    }
    if (errorCode == null) {
      acked.incrementAndGet();
      if (ackLatency != null) {
        ackLatency.record(nanos - sentNanos.get(k));
      }
    } else {
      refused.incrementAndGet();
      if (firstErrorCode == null) {
        firstErrorCode = errorCode;
      }
    }
    lastAnswerNanos = nanos;
    done.countDown();
  }

  void fail(String reason) {
    if (failure == null) {
      failure = reason;
    }
    while (done.getCount() > 0) {
      done.countDown();
    }
  }

  /** Waits until every frame is answered or the batch failed; false on timeout. */
  public boolean await(long timeout, TimeUnit unit) throws InterruptedException {
    return done.await(timeout, unit);
  }

  public long acked() {
    return acked.get();
  }

  /** Frames answered with an {@code error}. */
  public long refused() {
    return refused.get();
  }

  public long lastAnswerNanos() {
    return lastAnswerNanos;
  }

  /** The code of the first {@code error} answer, or null. */
  public String firstErrorCode() {
    return firstErrorCode;
  }

  /** Why the batch could not complete (its connection closed), or null. */
  public String failure() {
    return failure;
  }
}
