package org.esmp.load.probe;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The heap a JVM uses after a full collection, through {@code jcmd PID GC.run} and
 * {@code GC.heap_info}: live data, without the garbage that makes its RSS noisy. Needs a JDK's
 * {@code jcmd} and the same user as the target JVM.
 */
public final class Jcmd {

  /** A heap line: "garbage-first heap total 51200K, used 34285K", or one per generation. */
  private static final Pattern HEAP_USED = Pattern.compile("total\\s+\\d+K,\\s+used\\s+(\\d+)K");
  private static final long TIMEOUT_SECONDS = 60;

  private final String executable;

  private Jcmd(String executable) {
    this.executable = executable;
  }

  /** The {@code jcmd} of this JDK, else the one on the PATH, if it runs. */
  public static Optional<Jcmd> find() {
    Path own = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    Jcmd jcmd = new Jcmd(Files.isExecutable(own) ? own.toString() : "jcmd");
    try {
      jcmd.run(List.of("-h"));
      return Optional.of(jcmd);
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** Runs a full GC in {@code pid}, then returns its heap used, in KiB; empty when jcmd failed. */
  public OptionalLong heapUsedAfterGcKib(long pid) {
    try {
      run(List.of(Long.toString(pid), "GC.run"));
      return heapUsedKib(run(List.of(Long.toString(pid), "GC.heap_info")));
    } catch (IOException e) {
      return OptionalLong.empty();
    }
  }

  /** The heap used in {@code GC.heap_info} output, in KiB: the sum over its heap or generations. */
  public static OptionalLong heapUsedKib(String heapInfo) {
    Matcher used = HEAP_USED.matcher(heapInfo);
    long sum = 0;
    boolean found = false;
    while (used.find()) {
      sum += Long.parseLong(used.group(1));
      found = true;
    }
    return found ? OptionalLong.of(sum) : OptionalLong.empty();
  }

  private String run(List<String> args) throws IOException {
    List<String> command = new ArrayList<>(List.of(executable));
    command.addAll(args);
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    try {
      String out = new String(process.getInputStream().readAllBytes(), UTF_8);
      if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IOException("jcmd " + args + " did not finish");
      }
      if (process.exitValue() != 0) {
        throw new IOException("jcmd " + args + " exited with " + process.exitValue() + ": " + out.trim());
      }
      return out;
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }
}
