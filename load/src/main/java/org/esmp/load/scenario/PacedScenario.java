package org.esmp.load.scenario;

import java.io.IOException;
import java.util.List;
import java.util.Locale;
import org.esmp.load.net.Batch;
import org.esmp.load.net.ErrorTally;
import org.esmp.load.net.LoadException;
import org.esmp.load.net.Pacing;
import org.esmp.load.report.Metric;
import org.esmp.load.report.ScenarioResult;
import org.esmp.load.stats.LatencyStats;

/**
 * {@code paced}: member 0 of the all-online group posts at a steady rate; every member times each
 * post's delivery from its scheduled send time, on the same clock (sender and members are in this
 * JVM). Reports delivery latency p50/p99/p99.9 over every (post, member) pair.
 */
public final class PacedScenario implements Scenario {

  private final GroupScenarios groups;

  public PacedScenario(GroupScenarios groups) {
    this.groups = groups;
  }

  @Override
  public String name() {
    return "paced";
  }

  @Override
  public ScenarioResult run(RunContext context) throws InterruptedException {
    Settings settings = context.settings();
    int posts = settings.rate() * settings.seconds();
    ScenarioResult.Builder result = ScenarioResult.builder(name()).setup(String.format(Locale.ROOT,
        "group of %d members, each online on its own connection; one sender posts %,d/s for %d s (%,d posts of %d B)",
        settings.members(), settings.rate(), settings.seconds(), posts, settings.messageBytes()));
    ErrorTally errors = null;
    ErrorTally.Snapshot errorsBefore = null;
    GroupFixture group = null;
    try {
      group = groups.fixture(context);
      errors = group.members().errors();
      errorsBefore = errors.snapshot();
      group.warmUp(context, 1);
      LatencyStats ackLatency = new LatencyStats();
      LatencyStats deliveryLatency = new LatencyStats();
      List<Batch> batches = group.posts(context, 1, posts, 2, ackLatency, settings.messageBytes());
      group.members().deliveries().measure(batches, deliveryLatency);
      context.progress("paced: %,d posts/s for %d s to %d members", settings.rate(), settings.seconds(), group.size());
      Phase.Outcome outcome = Phase.run(context, group.members().all().subList(0, 1), batches,
          (i, start) -> Pacing.rate(start, settings.rate()), group.members().deliveries(), group.size(), 50);
      group.members().deliveries().stopMeasuring();
      result.add(Metric.rate("posts_target_per_second", "target rate", settings.rate(), "posts/s"));
      result.add(Metric.rate("posts_acked_per_second", "posts acked/s", outcome.ackedPerSecond(), "posts/s"));
      result.add(Metric.rate("deliveries_per_second", "deliveries/s", outcome.deliveredPerSecond(), "deliveries/s"));
      DirectScenario.addLatency(result, "delivery_latency", "delivery latency (send → deliver)", deliveryLatency);
      result.add(Metric.of("delivery_latency_samples", "delivery latency samples", deliveryLatency.count(), "count"));
      LatencyStats.Summary acks = ackLatency.summary();
      result.add(Metric.of("post_ack_latency_p50_ms", "post send-to-ack latency p50", acks.p50(), "ms"));
      result.add(Metric.of("post_ack_latency_p99_ms", "post send-to-ack latency p99", acks.p99(), "ms"));
      context.monitor().addCpuPer(result, outcome.before(), outcome.after(), outcome.acked(), "server_cpu_per_post_us",
          "server CPU per post", "µs/post");
      context.monitor().addCoresBusy(result, outcome.before(), outcome.after());
      result.add(Metric.of("posts_acked", "posts acked", outcome.acked(), "count"));
      result.add(Metric.of("deliveries", "deliveries received", outcome.delivered(), "count"));
      context.monitor().addMemory(result, outcome.after());
      Phase.noteIfBehind(result, outcome, settings.rate(), "posts");
      if (outcome.failure() != null) {
        throw new LoadException(outcome.failure());
      }
    } catch (LoadException | IOException e) {
      result.failure(e.getMessage());
      groups.discard();
    } finally {
      if (group != null) {
        group.members().deliveries().stopMeasuring();
      }
      if (errors != null) {
        result.errors(errors.countsSince(errorsBefore));
        errors.closedSince(errorsBefore).forEach(reason -> result.note("closed: " + reason));
      }
    }
    return result.build();
  }
}
