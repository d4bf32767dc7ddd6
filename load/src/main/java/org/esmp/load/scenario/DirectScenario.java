package org.esmp.load.scenario;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.esmp.load.net.Batch;
import org.esmp.load.net.LoadException;
import org.esmp.load.net.LoadIdentity;
import org.esmp.load.net.Pacing;
import org.esmp.load.report.Metric;
import org.esmp.load.report.ScenarioResult;
import org.esmp.load.stats.LatencyStats;

/**
 * {@code direct}: C connections, each its own address and synced, each sending direct {@code text}
 * messages to the next connection's address (a ring), so every message is stored and delivered
 * live once. A warm-up round, a timed round as fast as the windows allow (acked and delivered
 * messages a second, send-to-ack latency, server CPU per message), then a round paced at half the
 * rate just measured, for latency under a load the server keeps up with.
 */
public final class DirectScenario implements Scenario {

  /** The latency the paced round should stay under at its p99. */
  static final double TARGET_P99_MS = 20;

  @Override
  public String name() {
    return "direct";
  }

  @Override
  public ScenarioResult run(RunContext context) throws InterruptedException {
    Settings settings = context.settings();
    int c = settings.connections();
    ScenarioResult.Builder result = ScenarioResult.builder(name()).setup(String.format(Locale.ROOT,
        "%d connections, %,d text messages of %d B to the next connection's address (+%,d warm-up), window %d;"
            + " then %d s paced at half the rate measured", c, settings.messages(), settings.messageBytes(),
        settings.warmupMessages(), settings.window(), settings.seconds()));
    List<LoadIdentity> identities = new ArrayList<>();
    for (int i = 0; i < c; i++) {
      identities.add(LoadIdentity.generate(context.names().address("d", i)));
    }
    context.progress("direct: opening %d connections", c);
    Pipelines pipelines = null;
    try {
      pipelines = Pipelines.open(context, identities, true);
      if (settings.warmupMessages() > 0) {
        context.progress("direct: warm-up, %,d messages", settings.warmupMessages());
        Phase.Outcome warmup = round(context, pipelines, settings.warmupMessages(), 0, null, Phase.Schedule.unpaced());
        if (warmup.failure() != null) {
          throw new LoadException("warm-up: " + warmup.failure());
        }
      }
      double max = asFastAsTheWindowAllows(context, pipelines, result);
      atHalf(context, pipelines, max / 2, result);
      context.monitor().addMemory(result, context.monitor().sample());
    } catch (LoadException | IOException e) {
      result.failure(e.getMessage());
    } finally {
      if (pipelines != null) {
        result.errors(pipelines.errors().counts());
        pipelines.errors().closedConnections().forEach(reason -> result.note("closed: " + reason));
        pipelines.close();
      }
    }
    return result.build();
  }

  /** The timed round; returns its acked messages a second. */
  private static double asFastAsTheWindowAllows(RunContext context, Pipelines pipelines, ScenarioResult.Builder result)
      throws InterruptedException, LoadException {
    context.progress("direct: timed round, %,d messages", context.settings().messages());
    LatencyStats latency = new LatencyStats();
    Phase.Outcome max = round(context, pipelines, context.settings().messages(), 1, latency, Phase.Schedule.unpaced());
    result.add(Metric.rate("acked_per_second", "acked messages/s (as fast as the window allows)",
        max.ackedPerSecond(), "msg/s"));
    result.add(Metric.rate("delivered_per_second", "delivered messages/s (deliver frames received)",
        max.deliveredPerSecond(), "msg/s"));
    addLatency(result, "ack_latency", "send-to-ack latency", latency);
    context.monitor().addCpuPer(result, max.before(), max.after(), max.acked(), "server_cpu_per_message_us",
        "server CPU per message", "µs/msg");
    context.monitor().addCoresBusy(result, max.before(), max.after());
    counts(result, max, "", "");
    if (max.failure() != null) {
      throw new LoadException(max.failure());
    }
    if (!(max.ackedPerSecond() > 0)) {
      throw new LoadException("no message was acked: no rate to halve");
    }
    return max.ackedPerSecond();
  }

  /** The round paced at {@code rate}, spread evenly over the connections. */
  private static void atHalf(RunContext context, Pipelines pipelines, double rate, ScenarioResult.Builder result)
      throws InterruptedException, LoadException {
    int c = pipelines.size();
    int seconds = context.settings().seconds();
    int messages = (int) Math.max(c, Math.round(rate * seconds));
    context.progress("direct: paced round, %,.0f messages/s for %d s (%,d messages)", rate, seconds, messages);
    LatencyStats latency = new LatencyStats();
    // connection i sends every c/rate seconds from start + i/rate: all together, one every 1/rate
    Phase.Outcome paced = round(context, pipelines, messages, 2, latency,
        (i, start) -> Pacing.rate(start + (long) (i * 1e9 / rate), rate / c));
    result.add(Metric.rate("half_rate_target_per_second", "half max: target rate", rate, "msg/s"));
    result.add(Metric.rate("half_rate_acked_per_second", "half max: acked messages/s", paced.ackedPerSecond(),
        "msg/s"));
    addLatency(result, "half_rate_ack_latency", "half max: send-to-ack latency", latency);
    context.monitor().addCpuPer(result, paced.before(), paced.after(), paced.acked(),
        "half_rate_server_cpu_per_message_us", "half max: server CPU per message", "µs/msg");
    counts(result, paced, "half_rate_", "half max: ");
    Phase.noteIfBehind(result, paced, rate, "messages");
    double p99 = latency.summary().p99();
    result.note(String.format(Locale.ROOT, "half max p99 %.2f ms: %s the %.0f ms target", p99,
        p99 < TARGET_P99_MS ? "meets" : "MISSES", TARGET_P99_MS));
    if (paced.failure() != null) {
      throw new LoadException(paced.failure());
    }
  }

  /** One round of {@code total} messages over all connections, each to the next address. */
  private static Phase.Outcome round(RunContext context, Pipelines pipelines, int total, int round,
      LatencyStats latency, Phase.Schedule schedule) throws InterruptedException {
    int c = pipelines.size();
    int frameBytes = context.settings().messageBytes();
    long ts = System.currentTimeMillis();
    long base = (long) round * 1_000_000_000L;
    List<Batch> batches = new ArrayList<>();
    for (int i = 0; i < c; i++) {
      LoadIdentity from = pipelines.get(i).identity();
      String to = pipelines.get((i + 1) % c).identity().address();
      batches.add(new Batch(Presign.frames(Presign.share(total, c, i),
          k -> context.signer().text(from, to, base + k, frameBytes, ts)), latency));
    }
    return Phase.run(context, pipelines.all(), batches, schedule, pipelines.deliveries(), 1, 50);
  }

  /** Adds p50, p99, p99.9 and max of {@code latency} as {@code KEY_p50_ms} and so on. */
  static void addLatency(ScenarioResult.Builder result, String key, String label, LatencyStats latency) {
    LatencyStats.Summary s = latency.summary();
    result.add(Metric.of(key + "_p50_ms", label + " p50", s.p50(), "ms"));
    result.add(Metric.of(key + "_p99_ms", label + " p99", s.p99(), "ms"));
    result.add(Metric.of(key + "_p999_ms", label + " p99.9", s.p999(), "ms"));
    result.add(Metric.of(key + "_max_ms", label + " max", s.max(), "ms"));
  }

  private static void counts(ScenarioResult.Builder result, Phase.Outcome outcome, String key, String label) {
    result.add(Metric.of(key + "acked", label + "messages acked", outcome.acked(), "count"));
    result.add(Metric.of(key + "delivered", label + "deliveries received", outcome.delivered(), "count"));
    if (outcome.refused() > 0) {
      result.add(Metric.of(key + "refused", label + "messages refused (error)", outcome.refused(), "count"));
    }
  }
}
