package org.esmp.load.scenario;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.esmp.load.net.Batch;
import org.esmp.load.net.DeliveryTracker;
import org.esmp.load.net.Pacing;
import org.esmp.load.net.Pipeline;
import org.esmp.load.probe.ProcSample;
import org.esmp.load.report.ScenarioResult;

/**
 * One timed round: pre-signed batches written on several pipelines at once (a writer thread
 * each), every answer awaited, then the deliveries they cause, with the server sampled before and
 * after. The clock starts when the first frame may go and stops at the last answer (acks) and the
 * last delivery (deliveries).
 */
final class Phase {

  /** When each pipeline's frames are written, given the round's start. */
  interface Schedule {
    Pacing pacing(int pipeline, long startNanos);

    /** Each frame as soon as the window has room. */
    static Schedule unpaced() {
      return (pipeline, start) -> Pacing.unpaced();
    }
  }

  /**
   * What a round did.
   *
   * @param deliveriesExpected deliveries its acked messages should cause
   * @param failure why it stopped early, or null
   */
  record Outcome(long startNanos, long acked, long refused, long lastAckNanos, long delivered,
      long deliveriesExpected, long lastDeliveryNanos, ProcSample before, ProcSample after, String failure) {

    double ackedPerSecond() {
      return lastAckNanos > startNanos ? acked / ((lastAckNanos - startNanos) / 1e9) : Double.NaN;
    }

    double deliveredPerSecond() {
      return lastDeliveryNanos > startNanos ? delivered / ((lastDeliveryNanos - startNanos) / 1e9) : Double.NaN;
    }
  }

  private Phase() {}

  /**
   * Runs one round.
   *
   * @param deliveriesPerAck deliveries each acked message causes among the tracked connections
   * @param leadMillis how long after the call the first paced frame is due (writer threads start)
   */
  static Outcome run(RunContext context, List<Pipeline> pipelines, List<Batch> batches, Schedule schedule,
      DeliveryTracker deliveries, long deliveriesPerAck, long leadMillis) throws InterruptedException {
    long timeoutNanos = TimeUnit.SECONDS.toNanos(context.settings().timeoutSeconds());
    long deliveredBefore = deliveries.count();
    ProcSample before = context.monitor().sample();
    long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(leadMillis);
    AtomicReference<String> failure = new AtomicReference<>();
    List<Thread> writers = new ArrayList<>();
    for (int i = 0; i < pipelines.size(); i++) {
      Pipeline pipeline = pipelines.get(i);
      Batch batch = batches.get(i);
      Pacing pacing = schedule.pacing(i, start);
      Thread writer = new Thread(() -> {
        try {
          pipeline.write(batch, pacing);
        } catch (Exception e) {
          failure.compareAndSet(null, e.getMessage());
        }
      }, "esmp-load-writer-" + i);
      writer.setDaemon(true);
      writers.add(writer);
    }
    writers.forEach(Thread::start);
    long scheduleNanos = Math.max(0, lastDue(batches, pipelines.size(), schedule, start) - start);
    long deadline = System.nanoTime() + timeoutNanos + scheduleNanos;
    for (Thread writer : writers) {
      writer.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
    }
    long acked = 0;
    long refused = 0;
    long lastAck = 0;
    for (Batch batch : batches) {
      if (!batch.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
        failure.compareAndSet(null, "not every message was answered within " + context.settings().timeoutSeconds()
            + " s (--timeout-seconds)");
      }
      if (batch.failure() != null) {
        failure.compareAndSet(null, batch.failure());
      }
      acked += batch.acked();
      refused += batch.refused();
      lastAck = Math.max(lastAck, batch.lastAnswerNanos());
    }
    long expected = acked * deliveriesPerAck;
    if (!deliveries.awaitCount(deliveredBefore + expected, System.nanoTime() + timeoutNanos)) {
      failure.compareAndSet(null, "only " + (deliveries.count() - deliveredBefore) + " of " + expected
          + " deliveries arrived within " + context.settings().timeoutSeconds() + " s after the last answer");
    }
    ProcSample after = context.monitor().sample();
    return new Outcome(start, acked, refused, lastAck, deliveries.count() - deliveredBefore, expected,
        deliveries.lastNanos(), before, after, failure.get());
  }

  /**
   * Notes when a paced round's answers came slower than its schedule: the server fell behind, and
   * the latencies include its growing backlog rather than its latency at that rate.
   */
  static void noteIfBehind(ScenarioResult.Builder result, Outcome outcome, double rate, String what) {
    double kept = outcome.ackedPerSecond() / rate;
    if (kept < 0.9) {
      result.note(String.format(Locale.ROOT, "the server acked %,.0f %s/s of the %,.0f/s asked (%.0f%%): it fell"
          + " behind, and the latencies include its growing backlog", outcome.ackedPerSecond(), what, rate,
          kept * 100));
    }
  }

  private static long lastDue(List<Batch> batches, int pipelines, Schedule schedule, long start) {
    long last = start;
    for (int i = 0; i < pipelines; i++) {
      Pacing pacing = schedule.pacing(i, start);
      if (pacing.paced() && batches.get(i).size() > 0) {
        last = Math.max(last, pacing.due(batches.get(i).size() - 1));
      }
    }
    return last;
  }
}
