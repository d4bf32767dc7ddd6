package org.esmp.load.scenario;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;
import org.esmp.load.probe.DirectorySize;
import org.esmp.load.probe.Jcmd;
import org.esmp.load.probe.ProcSample;
import org.esmp.load.probe.ProcessSampler;
import org.esmp.load.report.Metric;
import org.esmp.load.report.ScenarioResult;

/**
 * The server's process as seen from outside, when it runs on this host: CPU, memory and disk
 * writes from {@code /proc}, heap after GC by {@code jcmd}, the size of its data directory. Each
 * part is optional; what is unknown is left out of the report, with a note saying why.
 */
public final class ServerMonitor {

  /** How long the server's disk must stay still to count as quiet. */
  private static final long QUIET_NANOS = 1_000_000_000L;

  private final ProcessSampler sampler;
  private final String pidSource;
  private final Path dataDir;
  private final Jcmd jcmd;

  /**
   * @param sampler the server's process, or null when unknown
   * @param pidSource how the pid was found, for the report
   * @param dataDir the server's data directory, or null
   * @param jcmd for heap figures, or null
   */
  public ServerMonitor(ProcessSampler sampler, String pidSource, Path dataDir, Jcmd jcmd) {
    this.sampler = sampler;
    this.pidSource = pidSource;
    this.dataDir = dataDir;
    this.jcmd = jcmd;
  }

  /** Whether the server's pid is known. */
  public boolean knowsProcess() {
    return sampler != null;
  }

  /** A sample of the server's process, or null when its pid is unknown. */
  public ProcSample sample() {
    return sampler == null ? null : sampler.sample();
  }

  /** The server's soft limit of open files, when known. */
  public OptionalLong maxOpenFiles() {
    return sampler == null ? OptionalLong.empty() : sampler.maxOpenFiles();
  }

  /** Bytes in the data directory's files, when it was given. */
  public OptionalLong dataDirBytes() {
    if (dataDir == null) {
      return OptionalLong.empty();
    }
    try {
      return OptionalLong.of(DirectorySize.of(dataDir));
    } catch (IOException e) {
      return OptionalLong.empty();
    }
  }

  public boolean knowsDataDir() {
    return dataDir != null;
  }

  /**
   * Waits {@code minSeconds}, then until the server writes nothing more to disk for a second (its
   * {@code write_bytes} and the data directory's size both still), at most {@code maxSeconds} in
   * all: background writes (a checkpoint copying the journal into the store) then fall on one side
   * of a sample, not across it. Knowing neither, it only waits {@code minSeconds}.
   *
   * @return whether the disk went quiet in time
   */
  public boolean awaitQuietDisk(double minSeconds, int maxSeconds) throws InterruptedException {
    long start = System.nanoTime();
    Thread.sleep((long) (minSeconds * 1000));
    if (sampler == null && dataDir == null) {
      return true;
    }
    String last = diskState();
    long lastChange = System.nanoTime();
    while (System.nanoTime() - start < maxSeconds * 1_000_000_000L) {
      if (System.nanoTime() - lastChange >= QUIET_NANOS) {
        return true;
      }
      Thread.sleep(250);
      String now = diskState();
      if (!now.equals(last)) {
        last = now;
        lastChange = System.nanoTime();
      }
    }
    return false;
  }

  private String diskState() {
    ProcSample sample = sample();
    return (sample == null ? "" : Long.toString(sample.writeBytes())) + "/" + dataDirBytes().orElse(-1);
  }

  /** Heap used after a full GC in the server, in KiB, when jcmd and the pid are there. */
  public OptionalLong heapAfterGcKib() {
    return jcmd == null || sampler == null ? OptionalLong.empty() : jcmd.heapUsedAfterGcKib(sampler.pid());
  }

  public boolean hasJcmd() {
    return jcmd != null && sampler != null;
  }

  /**
   * Adds the server's CPU time between two samples divided by {@code count}, in µs, as metric
   * {@code key}; nothing without samples.
   */
  public void addCpuPer(ScenarioResult.Builder result, ProcSample before, ProcSample after, long count, String key,
      String label, String unit) {
    if (before == null || after == null || before.cpuTicks() < 0 || after.cpuTicks() < 0 || count <= 0) {
      return;
    }
    double seconds = (after.cpuTicks() - before.cpuTicks()) / (double) sampler.ticksPerSecond();
    result.add(Metric.cost(key, label, seconds * 1e6 / count, unit));
  }

  /** Adds the server's CPU use over the interval as cores busy (1.0: one core all the time). */
  public void addCoresBusy(ScenarioResult.Builder result, ProcSample before, ProcSample after) {
    if (before == null || after == null || before.cpuTicks() < 0 || after.cpuTicks() < 0
        || after.nanos() <= before.nanos()) {
      return;
    }
    double cpuSeconds = (after.cpuTicks() - before.cpuTicks()) / (double) sampler.ticksPerSecond();
    double wallSeconds = (after.nanos() - before.nanos()) / 1e9;
    result.add(Metric.of("server_cores_busy", "server CPU, cores busy", cpuSeconds / wallSeconds, "cores"));
  }

  /** Adds the server's RSS and peak RSS of {@code sample}. */
  public void addMemory(ScenarioResult.Builder result, ProcSample sample) {
    if (sample == null) {
      result.note("server CPU and memory not measured: its pid is unknown"
          + " (--server-pid, or run the tool on the server's host)");
      return;
    }
    if (sample.rssKib() >= 0) {
      result.add(Metric.of("server_rss_mib", "server RSS at the end", sample.rssKib() / 1024.0, "MiB"));
    }
    if (sample.peakRssKib() >= 0) {
      result.add(Metric.of("server_peak_rss_mib", "server peak RSS (VmHWM, since its start)",
          sample.peakRssKib() / 1024.0, "MiB"));
    }
  }

  /** How the server was observed, for the report header. */
  public Map<String, Object> describe() {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("pid", sampler == null ? "unknown" : sampler.pid());
    map.put("pid_source", pidSource);
    map.put("data_dir", dataDir == null ? "not given" : dataDir.toString());
    map.put("jcmd", jcmd == null ? "not used" : "used");
    return map;
  }
}
