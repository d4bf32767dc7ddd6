package org.esmp.load.probe;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

/**
 * Samples one process's CPU time, memory and disk writes from {@code /proc/PID} (Linux). Used on
 * the server when it runs on the same host; each sample reads three small files.
 */
public final class ProcessSampler {

  private final long pid;
  private final Path dir;
  private final long ticksPerSecond;

  public ProcessSampler(long pid) {
    this(pid, Path.of("/proc", Long.toString(pid)), clockTicks());
  }

  ProcessSampler(long pid, Path dir, long ticksPerSecond) {
    this.pid = pid;
    this.dir = dir;
    this.ticksPerSecond = ticksPerSecond;
  }

  public long pid() {
    return pid;
  }

  /** Whether the process exists and its {@code stat} is readable. */
  public boolean alive() {
    return Files.isReadable(dir.resolve("stat"));
  }

  /** CPU ticks (of {@link #sample}) per second: {@code getconf CLK_TCK}, usually 100. */
  public long ticksPerSecond() {
    return ticksPerSecond;
  }

  /** A sample now; a file that cannot be read leaves its values at -1. */
  public ProcSample sample() {
    long nanos = System.nanoTime();
    long cpu = read("stat").map(ProcFiles::cpuTicks).orElse(-1L);
    String status = read("status").orElse("");
    String io = read("io").orElse("");
    return new ProcSample(nanos, cpu,
        or(ProcFiles.statusKib(status, "VmRSS")), or(ProcFiles.statusKib(status, "VmHWM")),
        or(ProcFiles.ioCounter(io, "write_bytes")), or(ProcFiles.ioCounter(io, "wchar")));
  }

  /** The process's soft limit of open files, when known. */
  public OptionalLong maxOpenFiles() {
    return read("limits").map(ProcFiles::maxOpenFiles).orElse(OptionalLong.empty());
  }

  private Optional<String> read(String file) {
    try {
      return Optional.of(Files.readString(dir.resolve(file)));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  private static long or(OptionalLong value) {
    return value.orElse(-1);
  }

  /** {@code getconf CLK_TCK}, or 100 (the value on every common Linux) when it cannot run. */
  static long clockTicks() {
    try {
      Process getconf = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
      String out = new String(getconf.getInputStream().readAllBytes()).trim();
      if (getconf.waitFor(5, TimeUnit.SECONDS) && getconf.exitValue() == 0) {
        return Long.parseLong(out);
      }
    } catch (IOException | NumberFormatException e) {
      // fall through
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 100;
  }
}
