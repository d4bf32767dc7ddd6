package org.esmp.server.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.esmp.server.Main;
import org.esmp.server.federation.ServerKey;

/**
 * The real server's main class in a child JVM, on a free port of 127.0.0.1 with the test plugins
 * and rate limits that never throttle ({@link TestServers#UNTHROTTLED_YAML}), its output in a log file: for tests that kill it, fill its disk or start several on one data
 * directory. Built with {@link #builder}; {@link #close} kills it.
 */
public final class ChildServer implements AutoCloseable {

  private static final Pattern LISTENING = Pattern.compile("ESMP server listening on .*; (\\d+) plugins: ");

  private final Process process;
  private final int port;
  private final Path logFile;
  private final Supplier<String> output;
  private boolean serving;

  private ChildServer(Process process, int port, Path logFile, Supplier<String> output) {
    this.process = process;
    this.port = port;
    this.logFile = logFile;
    this.output = output != null ? output : this::log;
  }

  /** A server on {@code data}, its output (standard and error) written to {@code logFile}. */
  public static Builder builder(Path data, Path logFile) {
    return new Builder(data, logFile);
  }

  /**
   * A TCP port of 127.0.0.1 free now, for a server whose peers must know its port before it starts.
   * Taken below the system's range of ephemeral ports when there is room: a port of that range,
   * free now, may be the local end of any connection made before the server binds it (to the test
   * database, to a peer), and the server would then find it in use.
   */
  public static int freePort() throws IOException {
    int ephemeralLow = 32768;
    try {
      String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range"));
      ephemeralLow = Integer.parseInt(range.trim().split("\\s+")[0]);
    } catch (IOException | RuntimeException e) {
      // Not Linux: Linux's default.
    }
    if (ephemeralLow > 12_000) {
      for (int attempt = 0; attempt < 50; attempt++) {
        int port = ThreadLocalRandom.current().nextInt(10_000, ephemeralLow);
        try (ServerSocket probe = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
          return probe.getLocalPort();
        } catch (IOException inUse) {
          // Another one.
        }
      }
    }
    try (ServerSocket probe = new ServerSocket(0)) {
      return probe.getLocalPort();
    }
  }

  /**
   * The server key of the data directory {@code data}, made there if it has none, as {@code
   * esmp-server --data-dir DATA --print-server-key} prints it (in a child JVM, as an operator runs
   * it before the first start to tell the peers).
   */
  public static String printServerKey(Path data) throws IOException, InterruptedException {
    Files.createDirectories(data);
    Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName(),
        "--data-dir", data.toString(), "--print-server-key")
        .redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
      process.destroyForcibly();
      return fail("--print-server-key failed: " + output);
    }
    String[] lines = output.strip().split("\n");
    return lines[lines.length - 1].strip();
  }

  /**
   * Makes the data directories {@code dataDirs} (owner only) with one server key, as the servers of
   * a cluster have (docs/CLUSTER.md: the first server's {@code server.key} copied to the others),
   * made in the first if it has none.
   */
  public static void shareServerKey(Path... dataDirs) throws IOException {
    for (Path data : dataDirs) {
      Files.createDirectories(data, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }
    ServerKey.loadOrCreate(dataDirs[0]);
    for (int i = 1; i < dataDirs.length; i++) {
      Files.copy(dataDirs[0].resolve(ServerKey.FILE), dataDirs[i].resolve(ServerKey.FILE),
          StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
    }
  }

  /** Waits until it serves (a connection gets the hello) for up to 60 s, failing if it exits; its port. */
  public int port() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!serving && System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        fail("the server exited with " + process.exitValue() + ": " + output.get());
      }
      try (TestClient probe = new TestClient(port)) {
        serving = true;
      } catch (IOException notYet) {
        Thread.sleep(100);
      }
    }
    if (!serving) {
      fail("the server did not start within 60 s: " + output.get());
    }
    return port;
  }

  /** The number of plugins it started, from its "listening" line; waits up to 30 s for that line. */
  public int pluginsStarted() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      Matcher matcher = LISTENING.matcher(Files.readString(logFile));
      if (matcher.find()) {
        return Integer.parseInt(matcher.group(1));
      }
      Thread.sleep(50);
    }
    return fail("no 'listening' line" + log());
  }

  public Process process() {
    return process;
  }

  public long pid() {
    return process.pid();
  }

  public Path logFile() {
    return logFile;
  }

  /** What it has written so far under a header line naming the file, for failure messages. */
  public String log() {
    try {
      return "\n--- " + logFile.getFileName() + " ---\n" + Files.readString(logFile);
    } catch (IOException e) {
      return "\n(no log: " + e + ")";
    }
  }

  /** SIGKILL (on Linux); whether it ended within 30 s. */
  public boolean kill() throws InterruptedException {
    process.destroyForcibly();
    return process.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGTERM, a clean stop; whether it ended within 30 s. */
  public boolean stop() throws InterruptedException {
    process.destroy();
    return process.waitFor(30, TimeUnit.SECONDS);
  }

  /** Kills it, if it still runs. */
  @Override
  public void close() throws InterruptedException {
    kill();
  }

  /** What a {@link ChildServer} runs with; {@link #start} starts it. */
  public static final class Builder {
    private final Path data;
    private final Path logFile;
    private final List<String> jvmArgs = new ArrayList<>();
    private List<String> prefix = List.of();
    private Supplier<String> output;
    private String settings = "";
    private String domain = "example.com";
    private int port;
    private Path pluginsDir;

    private Builder(Path data, Path logFile) {
      this.data = data;
      this.logFile = logFile;
    }

    /** An argument for the child JVM, such as a system property. */
    public Builder jvmArg(String arg) {
      jvmArgs.add(arg);
      return this;
    }

    /** A command the JVM's command line is appended to, e.g. one that enters a mount namespace. */
    public Builder commandPrefix(List<String> prefix) {
      this.prefix = List.copyOf(prefix);
      return this;
    }

    /** Lines of {@code esmp.yaml} added to the unthrottled rate limits, e.g. {@code "output_grace_seconds: 1\n"}. */
    public Builder settings(String yaml) {
      this.settings = yaml;
      return this;
    }

    /** The domain it serves ({@code --domain}); example.com by default. */
    public Builder domain(String domain) {
      this.domain = domain;
      return this;
    }

    /**
     * The port it listens on, chosen before the start (e.g. by {@link ChildServer#freePort}) so that
     * its peers can be told it, and kept across restarts; a free one by default.
     */
    public Builder port(int port) {
      this.port = port;
      return this;
    }

    /** The plugin jars it loads; {@link TestServers#pluginsDir} by default. */
    public Builder pluginsDir(Path pluginsDir) {
      this.pluginsDir = pluginsDir;
      return this;
    }

    /** What a failure to start shows of the run; {@link ChildServer#log} by default. */
    public Builder output(Supplier<String> output) {
      this.output = output;
      return this;
    }

    /**
     * Starts it on its port (a free one if none was given); returns at once ({@link ChildServer#port}
     * waits until it serves).
     */
    public ChildServer start() throws IOException {
      int port = this.port != 0 ? this.port : freePort();
      // Next to the log file: the data directory's contents are the server's own.
      Path config = logFile.resolveSibling(logFile.getFileName() + ".esmp.yaml");
      // A test that chooses the storage itself (a cluster's nodes on their database) keeps its choice.
      boolean chosen = settings.startsWith("storage:") || settings.contains("\nstorage:");
      Files.writeString(config, TestServers.UNTHROTTLED_YAML + (chosen ? "" : ClusterDatabase.yaml(data)) + settings);
      List<String> command = new ArrayList<>(prefix);
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.add("-Xmx256m");
      command.add("-XX:+ExitOnOutOfMemoryError"); // as bin/esmp-server: running out is an exit, not a limp
      command.addAll(jvmArgs);
      command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(),
          "--bind", "127.0.0.1", "--port", Integer.toString(port), "--domain", domain,
          "--config", config.toString(), "--data-dir", data.toString(),
          "--plugins-dir", (pluginsDir != null ? pluginsDir : TestServers.pluginsDir()).toString()));
      ProcessBuilder builder = new ProcessBuilder(command);
      builder.redirectErrorStream(true);
      builder.redirectOutput(logFile.toFile());
      return new ChildServer(builder.start(), port, logFile, output);
    }
  }
}
