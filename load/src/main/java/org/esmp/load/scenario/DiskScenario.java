package org.esmp.load.scenario;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import org.esmp.load.net.Batch;
import org.esmp.load.net.DeliveryTracker;
import org.esmp.load.net.ErrorTally;
import org.esmp.load.net.LoadException;
import org.esmp.load.net.LoadIdentity;
import org.esmp.load.net.Pipeline;
import org.esmp.load.net.ServerSession;
import org.esmp.load.probe.ProcSample;
import org.esmp.load.report.Metric;
import org.esmp.load.report.ScenarioResult;
import org.esmp.load.stats.LatencyStats;

/**
 * {@code disk}: large posts (60 KB by default) to a group of 300 members who exist but are offline
 * (each authenticated once, then gone), and what each post costs on disk: the growth of the server's
 * data directory, and the bytes the server process wrote ({@code write_bytes} of /proc/PID/io, the
 * better measure: store files may be preallocated). Each sample waits until the server's disk is
 * still, so that background writes (checkpoints) fall on one side of it; a checkpoint the posts
 * make due later is not counted, which {@code --disk-posts N} averages out.
 */
public final class DiskScenario implements Scenario {

  @Override
  public String name() {
    return "disk";
  }

  @Override
  public ScenarioResult run(RunContext context) throws InterruptedException {
    Settings settings = context.settings();
    int d = settings.diskMembers();
    ScenarioResult.Builder result = ScenarioResult.builder(name()).setup(String.format(Locale.ROOT,
        "%d post(s) of %,d B to a group of %d members, all offline; each sample once the server's disk is"
            + " still (at least %.1f s after the step before it)",
        settings.diskPosts(), settings.diskPostBytes(), d, settings.settleSeconds()));
    if (!context.monitor().knowsProcess() && !context.monitor().knowsDataDir()) {
      result.note("no disk figures: the server's pid is unknown and --data-dir not given");
    }
    List<LoadIdentity> identities = new ArrayList<>();
    for (int i = 0; i < d; i++) {
      identities.add(LoadIdentity.generate(context.names().address("k", i)));
    }
    ErrorTally errors = new ErrorTally();
    Pipeline creator = null;
    try {
      context.progress("disk: registering %d members", d);
      ServerSession creatorSession = Sessions.open(context, identities.subList(0, 1), false).all().get(0);
      int maxFrame = creatorSession.hello().maxFrame();
      creator = new Pipeline(creatorSession, settings.window(), settings.timeoutMillis(), errors,
          new DeliveryTracker());
      if (settings.diskPostBytes() > maxFrame) {
        throw new LoadException("--disk-post-bytes " + settings.diskPostBytes() + " is over the server's max_frame "
            + maxFrame);
      }
      Sessions.open(context, identities.subList(1, d), false).all().forEach(ServerSession::close);
      String groupId = context.names().group("disk");
      creator.call(context.signer().groupCreated(identities.get(0), groupId,
          identities.subList(1, d).stream().map(LoadIdentity::address).toList(), System.currentTimeMillis()),
          settings.timeoutMillis());

      LoadIdentity from = identities.get(0);
      long ts = System.currentTimeMillis();
      LatencyStats latency = new LatencyStats();
      Batch posts = new Batch(Presign.frames(settings.diskPosts(),
          k -> context.signer().groupPost(from, groupId, k, settings.diskPostBytes(), ts)), latency);
      settle(context, result, "before");
      OptionalLong dirBefore = context.monitor().dataDirBytes();
      ProcSample before = context.monitor().sample();
      context.progress("disk: %d post(s) of %,d B to %d members", settings.diskPosts(), settings.diskPostBytes(), d);
      Phase.Outcome outcome = Phase.run(context, List.of(creator), List.of(posts), Phase.Schedule.unpaced(),
          new DeliveryTracker(), 0, 0);
      settle(context, result, "after");
      OptionalLong dirAfter = context.monitor().dataDirBytes();
      ProcSample after = context.monitor().sample();
      long acked = outcome.acked();
      result.add(Metric.of("posts_acked", "posts acked", acked, "count"));
      result.add(Metric.of("post_frame_bytes", "post frame size", settings.diskPostBytes(), "B"));
      if (acked > 0) {
        if (dirBefore.isPresent() && dirAfter.isPresent()) {
          long growth = dirAfter.getAsLong() - dirBefore.getAsLong();
          result.add(Metric.of("data_dir_growth_per_post_kib", "data directory growth per post",
              growth / 1024.0 / acked, "KiB/post"));
          if (growth < 0) {
            result.note("the data directory shrank: the server compacted or truncated files (a checkpoint"
                + " emptying its journal) meanwhile; write_bytes is the measure, or average over --disk-posts N");
          }
        }
        if (before != null && after != null && before.writeBytes() >= 0 && after.writeBytes() >= 0) {
          double perPost = (after.writeBytes() - before.writeBytes()) / (double) acked;
          result.add(Metric.of("write_bytes_per_post_kib", "server write_bytes per post (/proc/PID/io)",
              perPost / 1024, "KiB/post"));
          result.add(Metric.of("write_bytes_per_post_per_member", "server write_bytes per post per member",
              perPost / d, "B/member"));
          result.add(Metric.of("write_amplification", "write_bytes per post ÷ post size",
              perPost / settings.diskPostBytes(), "×"));
          result.add(Metric.of("write_calls_per_post_kib", "server wchar per post (bytes to write calls)",
              (after.writeCalls() - before.writeCalls()) / 1024.0 / acked, "KiB/post"));
        } else if (before != null) {
          result.note("write_bytes not readable in /proc/" + "PID/io (another user's process?)");
        }
        DirectScenario.addLatency(result, "post_ack_latency", "post send-to-ack latency", latency);
      }
      context.monitor().addMemory(result, after);
      if (outcome.failure() != null) {
        throw new LoadException(outcome.failure());
      }
    } catch (LoadException | IOException e) {
      result.failure(e.getMessage());
    } finally {
      if (creator != null) {
        creator.close();
      }
      result.errors(errors.counts());
      errors.closedConnections().forEach(reason -> result.note("closed: " + reason));
    }
    return result.build();
  }

  private static void settle(RunContext context, ScenarioResult.Builder result, String when)
      throws InterruptedException {
    Settings settings = context.settings();
    if (!context.monitor().awaitQuietDisk(settings.settleSeconds(), settings.timeoutSeconds())) {
      result.note("the server was still writing to disk " + settings.timeoutSeconds() + " s into the sample "
          + when + " the posts: the figures include other writes");
    }
  }
}
