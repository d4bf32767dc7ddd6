package org.esmp.load.scenario;

import java.io.IOException;
import java.util.Locale;
import org.esmp.load.net.ErrorTally;
import org.esmp.load.net.LoadException;
import org.esmp.load.report.Metric;
import org.esmp.load.report.ScenarioResult;
import org.esmp.load.stats.LatencyStats;

/**
 * {@code fanout}: the first few members of an all-online group of M post as fast as their windows
 * allow; every post is stored once per member and pushed to each. Reports deliveries a second (all
 * {@code deliver} frames the members received), posts acked a second, and the server's CPU per
 * post and per delivery.
 */
public final class FanoutScenario implements Scenario {

  private final GroupScenarios groups;

  public FanoutScenario(GroupScenarios groups) {
    this.groups = groups;
  }

  @Override
  public String name() {
    return "fanout";
  }

  @Override
  public ScenarioResult run(RunContext context) throws InterruptedException {
    Settings settings = context.settings();
    int senders = Math.min(settings.senders(), settings.members());
    ScenarioResult.Builder result = ScenarioResult.builder(name()).setup(String.format(Locale.ROOT,
        "group of %d members, each online on its own connection; %d sender(s) post %,d posts of %d B"
            + " (+%,d warm-up), window %d", settings.members(), senders, settings.fanoutPosts(),
        settings.messageBytes(), settings.warmupPosts(), settings.window()));
    ErrorTally errors = null;
    ErrorTally.Snapshot errorsBefore = null;
    try {
      GroupFixture group = groups.fixture(context);
      errors = group.members().errors();
      errorsBefore = errors.snapshot();
      group.warmUp(context, senders);
      context.progress("fanout: timed round, %,d posts to %d members", settings.fanoutPosts(), group.size());
      LatencyStats latency = new LatencyStats();
      Phase.Outcome outcome = Phase.run(context, group.members().all().subList(0, senders),
          group.posts(context, senders, settings.fanoutPosts(), 1, latency, settings.messageBytes()),
          Phase.Schedule.unpaced(), group.members().deliveries(), group.size(), 50);
      result.add(Metric.rate("deliveries_per_second", "deliveries/s (deliver frames at all members)",
          outcome.deliveredPerSecond(), "deliveries/s"));
      result.add(Metric.rate("posts_acked_per_second", "posts acked/s", outcome.ackedPerSecond(), "posts/s"));
      DirectScenario.addLatency(result, "post_ack_latency", "post send-to-ack latency", latency);
      context.monitor().addCpuPer(result, outcome.before(), outcome.after(), outcome.acked(), "server_cpu_per_post_us",
          "server CPU per post", "µs/post");
      context.monitor().addCpuPer(result, outcome.before(), outcome.after(), outcome.delivered(),
          "server_cpu_per_delivery_us", "server CPU per delivery", "µs/delivery");
      context.monitor().addCoresBusy(result, outcome.before(), outcome.after());
      result.add(Metric.of("posts_acked", "posts acked", outcome.acked(), "count"));
      result.add(Metric.of("deliveries", "deliveries received", outcome.delivered(), "count"));
      result.add(Metric.of("deliveries_expected", "deliveries expected (posts acked × members)",
          outcome.deliveriesExpected(), "count"));
      if (outcome.refused() > 0) {
        result.add(Metric.of("posts_refused", "posts refused (error)", outcome.refused(), "count"));
      }
      context.monitor().addMemory(result, outcome.after());
      if (outcome.failure() != null) {
        throw new LoadException(outcome.failure());
      }
    } catch (LoadException | IOException e) {
      result.failure(e.getMessage());
      groups.discard();
    } finally {
      if (errors != null) {
        result.errors(errors.countsSince(errorsBefore));
        errors.closedSince(errorsBefore).forEach(reason -> result.note("closed: " + reason));
      }
    }
    return result.build();
  }
}
