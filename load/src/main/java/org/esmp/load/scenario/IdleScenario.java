package org.esmp.load.scenario;

import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import org.esmp.load.net.LoadIdentity;
import org.esmp.load.net.ServerSession;
import org.esmp.load.probe.ProcSample;
import org.esmp.load.report.Metric;
import org.esmp.load.report.ScenarioResult;

/**
 * {@code idle}: N connections, each its own address, authenticated and synced (as a client waiting
 * for messages is), then held open doing nothing. Memory per idle connection is the server's
 * growth divided by N: its RSS, and, with jcmd, its heap used after a full GC (live data only),
 * each measured before opening and once all are open.
 */
public final class IdleScenario implements Scenario {

  /** Descriptors the tool needs besides the idle connections (JVM, jars, the other sockets). */
  private static final int SPARE_FDS = 128;

  @Override
  public String name() {
    return "idle";
  }

  @Override
  public ScenarioResult run(RunContext context) throws InterruptedException {
    int n = context.settings().idleConnections();
    ScenarioResult.Builder result = ScenarioResult.builder(name()).setup(String.format(Locale.ROOT,
        "%,d connections, each its own address, authenticated and synced, then idle; %d set up at a time", n,
        context.settings().setupParallelism()));
    String fdProblem = clientDescriptorProblem(n);
    if (fdProblem != null) {
      return result.failure(fdProblem).build();
    }
    OptionalLong serverFds = context.monitor().maxOpenFiles();
    if (serverFds.isPresent() && serverFds.getAsLong() < n + 256L) {
      result.note(String.format(Locale.ROOT, "the server may open only %d files (its ulimit -n), too few for %,d"
          + " connections: raise it where the server starts", serverFds.getAsLong(), n));
    }
    List<LoadIdentity> identities = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      identities.add(LoadIdentity.generate(context.names().address("i", i)));
    }
    boolean heap = context.settings().jcmd() && context.monitor().hasJcmd();
    if (context.settings().jcmd() && !heap && context.monitor().knowsProcess()) {
      result.note("server heap not measured: no jcmd found (a JDK's bin/jcmd)");
    }
    OptionalLong heapBefore = heap ? context.monitor().heapAfterGcKib() : OptionalLong.empty();
    ProcSample before = context.monitor().sample();
    context.progress("idle: opening %,d connections", n);
    long start = System.nanoTime();
    Sessions.Opened opened = Sessions.open(context, identities, true);
    double setupSeconds = (System.nanoTime() - start) / 1e9;
    int count = opened.sessions().size();
    OptionalLong heapOpen;
    ProcSample open;
    try {
      TimeUnit.SECONDS.sleep(1); // the server's last allocations for the last connections
      heapOpen = heap ? context.monitor().heapAfterGcKib() : OptionalLong.empty();
      open = context.monitor().sample();
    } finally {
      opened.sessions().forEach(ServerSession::close);
    }
    result.add(Metric.of("idle_connections", "idle connections open", count, "count"));
    result.add(Metric.rate("setup_per_second", "connections set up/s (connect, register, sync)",
        count / setupSeconds, "conn/s"));
    if (count > 0) {
      addRss(result, before, open, count);
      if (heapBefore.isPresent() && heapOpen.isPresent()) {
        TimeUnit.SECONDS.sleep(1); // the server closing them
        addHeap(result, heapBefore.getAsLong(), heapOpen.getAsLong(), context.monitor().heapAfterGcKib(), count);
        if (before != null && open != null
            && open.rssKib() - before.rssKib() < heapOpen.getAsLong() - heapBefore.getAsLong()) {
          result.note("the RSS grew less than the live heap: the server's JVM had committed that memory before"
              + " (earlier scenarios); for RSS per connection, run --scenario idle alone on a freshly started server");
        }
      } else if (heap) {
        result.note("server heap not measured: jcmd failed (another user's JVM, or not a HotSpot JVM?)");
      }
    }
    if (open != null) {
      result.add(Metric.of("server_peak_rss_mib", "server peak RSS (VmHWM, since its start)",
          open.peakRssKib() / 1024.0, "MiB"));
    } else {
      result.note("server memory not measured: its pid is unknown (--server-pid, or run on the server's host)");
    }
    if (opened.failure() != null) {
      result.failure(String.format(Locale.ROOT, "after %,d of %,d connections: %s", count, n,
          opened.failure().getMessage()));
    }
    return result.build();
  }

  private static void addRss(ScenarioResult.Builder result, ProcSample before, ProcSample open, int count) {
    if (before == null || open == null || before.rssKib() < 0 || open.rssKib() < 0) {
      return;
    }
    result.add(Metric.of("server_rss_before_mib", "server RSS before", before.rssKib() / 1024.0, "MiB"));
    result.add(Metric.of("server_rss_after_mib", "server RSS with the connections open", open.rssKib() / 1024.0,
        "MiB"));
    result.add(Metric.of("rss_per_connection_kib", "server RSS per idle connection",
        (open.rssKib() - before.rssKib()) / (double) count, "KiB"));
  }

  /**
   * The live heap per connection two ways: its growth while they opened, and its drop once they
   * closed. Other state of the server that comes or goes meanwhile (caches, expiring entries)
   * moves one of the two: they agree when the measure is clean.
   */
  private static void addHeap(ScenarioResult.Builder result, long beforeKib, long openKib, OptionalLong closedKib,
      int count) {
    result.add(Metric.of("heap_before_mib", "server heap used after GC, before", beforeKib / 1024.0, "MiB"));
    result.add(Metric.of("heap_after_mib", "server heap used after GC, connections open", openKib / 1024.0, "MiB"));
    result.add(Metric.of("heap_per_connection_kib", "server heap per idle connection (growth, after GC)",
        (openKib - beforeKib) / (double) count, "KiB"));
    if (closedKib.isPresent()) {
      result.add(Metric.of("heap_freed_per_connection_kib", "server heap freed per connection on closing",
          (openKib - closedKib.getAsLong()) / (double) count, "KiB"));
    }
  }

  /** Why this process cannot hold {@code n} more sockets, or null when it can (or cannot tell). */
  static String clientDescriptorProblem(int n) {
    OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    if (!(os instanceof com.sun.management.UnixOperatingSystemMXBean unix)) {
      return null;
    }
    long max = unix.getMaxFileDescriptorCount();
    long open = unix.getOpenFileDescriptorCount();
    if (open + n + SPARE_FDS <= max) {
      return null;
    }
    return String.format(Locale.ROOT, "this process may open %,d files (ulimit -n) and has %,d open: %,d idle"
        + " connections need about %,d. Raise the limit in the shell that runs the tool (e.g. ulimit -n %d),"
        + " or lower --idle-connections", max, open, n, open + n + SPARE_FDS, Math.max(open + n + SPARE_FDS, 65_536));
  }
}
