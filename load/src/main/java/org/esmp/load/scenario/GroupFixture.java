package org.esmp.load.scenario;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.esmp.load.net.Batch;
import org.esmp.load.net.LoadException;
import org.esmp.load.net.LoadIdentity;
import org.esmp.load.net.SignedFrame;
import org.esmp.load.stats.LatencyStats;

/**
 * The group of {@code fanout} and {@code paced}: M members, each online and synced on its own
 * connection, in one invite-only group made by member 0. Set up by the first of the two scenarios
 * that runs and shared by both; the first also sends the warm-up posts.
 */
final class GroupFixture implements AutoCloseable {

  private final Pipelines members;
  private final String groupId;
  private boolean warm;

  private GroupFixture(Pipelines members, String groupId) {
    this.members = members;
    this.groupId = groupId;
  }

  /** Opens the members' connections, creates the group, and waits until every member has heard of it. */
  static GroupFixture create(RunContext context, String role) throws IOException, LoadException, InterruptedException {
    int m = context.settings().members();
    List<LoadIdentity> identities = new ArrayList<>();
    for (int i = 0; i < m; i++) {
      identities.add(LoadIdentity.generate(context.names().address(role, i)));
    }
    context.progress("group: opening %d member connections", m);
    Pipelines members = Pipelines.open(context, identities, true);
    try {
      String groupId = context.names().group(role + "group");
      List<String> others = identities.subList(1, m).stream().map(LoadIdentity::address).toList();
      long before = members.deliveries().count();
      members.get(0).call(context.signer().groupCreated(identities.get(0), groupId, others, System.currentTimeMillis()),
          context.settings().timeoutMillis());
      // every member's mailbox gets the group_created event: then all are live members
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(context.settings().timeoutSeconds());
      if (!members.deliveries().awaitCount(before + m, deadline)) {
        throw new LoadException("only " + (members.deliveries().count() - before) + " of " + m
            + " members were told of the new group within " + context.settings().timeoutSeconds() + " s");
      }
      return new GroupFixture(members, groupId);
    } catch (IOException | LoadException | InterruptedException | RuntimeException e) {
      members.close();
      throw e;
    }
  }

  Pipelines members() {
    return members;
  }

  String groupId() {
    return groupId;
  }

  int size() {
    return members.size();
  }

  /** Posts the warm-up posts from the first {@code senders} members, once per fixture. */
  void warmUp(RunContext context, int senders) throws InterruptedException, LoadException {
    if (warm || context.settings().warmupPosts() == 0) {
      return;
    }
    warm = true;
    context.progress("group: warm-up, %,d posts to %d members", context.settings().warmupPosts(), size());
    Phase.Outcome outcome = Phase.run(context, members.all().subList(0, senders),
        posts(context, senders, context.settings().warmupPosts(), 0, null, context.settings().messageBytes()),
        Phase.Schedule.unpaced(), members.deliveries(), size(), 50);
    if (outcome.failure() != null) {
      throw new LoadException("warm-up: " + outcome.failure());
    }
  }

  /** {@code total} pre-signed posts split over the first {@code senders} members, one batch each. */
  List<Batch> posts(RunContext context, int senders, int total, int round,
      LatencyStats latency, int frameBytes) {
    long ts = System.currentTimeMillis();
    List<Batch> batches = new ArrayList<>();
    for (int i = 0; i < senders; i++) {
      LoadIdentity from = members.get(i).identity();
      long base = (long) round * 1_000_000_000L;
      List<SignedFrame> frames = Presign.frames(Presign.share(total, senders, i),
          k -> context.signer().groupPost(from, groupId, base + k, frameBytes, ts));
      batches.add(new Batch(frames, latency));
    }
    return batches;
  }

  String describe() {
    return String.format(Locale.ROOT, "group of %d members, each online on its own connection", size());
  }

  @Override
  public void close() {
    members.close();
  }
}
