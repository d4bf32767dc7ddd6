package org.esmp.load;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.Callable;
import org.esmp.client.Tls;
import org.esmp.load.net.FrameSigner;
import org.esmp.load.net.Hello;
import org.esmp.load.net.LoadException;
import org.esmp.load.net.ServerSession;
import org.esmp.load.net.Target;
import org.esmp.load.probe.Jcmd;
import org.esmp.load.probe.MachineInfo;
import org.esmp.load.probe.OpensslSpeed;
import org.esmp.load.probe.ProcessSampler;
import org.esmp.load.probe.ServerPidFinder;
import org.esmp.load.report.JsonReport;
import org.esmp.load.report.Report;
import org.esmp.load.report.ScenarioResult;
import org.esmp.load.report.TableWriter;
import org.esmp.load.scenario.DirectScenario;
import org.esmp.load.scenario.DiskScenario;
import org.esmp.load.scenario.FanoutScenario;
import org.esmp.load.scenario.GroupScenarios;
import org.esmp.load.scenario.IdleScenario;
import org.esmp.load.scenario.Names;
import org.esmp.load.scenario.PacedScenario;
import org.esmp.load.scenario.RunContext;
import org.esmp.load.scenario.Scenario;
import org.esmp.load.scenario.ServerMonitor;
import org.esmp.load.scenario.Settings;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code esmp-load}: puts a running ESMP server under load from outside and reports what it
 * sustained: direct messages, group fan-out, paced group latency, idle connections, disk bytes per
 * post, with the server's CPU and memory when it runs on this host, each throughput beside one
 * core's Ed25519 verify rate ({@code openssl speed}). The report goes to stdout as a table, then as
 * JSON (or to {@code --json FILE}); progress goes to stderr. Exit codes: 0 every scenario ran, 1 a
 * scenario failed or the server could not be reached, 2 bad usage.
 *
 * <p>Every address and group of a run has a random run id in its name, so runs can follow each
 * other against one server (its data grows: use a fresh data directory for comparable runs).
 */
@Command(name = "esmp-load", mixinStandardHelpOptions = true, versionProvider = LoadTool.Version.class,
    sortOptions = false, usageHelpWidth = 110,
    description = "Measures a running ESMP server: direct, fanout, paced, idle, disk. The server needs its rate"
        + " limits raised (docs/PERFORMANCE.md), registrations_per_ip_per_hour too, and for idle"
        + " max_connections_per_ip.")
public final class LoadTool implements Callable<Integer> {

  /** The scenarios, in the order they run. */
  enum Which { direct, fanout, paced, idle, disk, all }

  @Option(names = "--host", paramLabel = "HOST", defaultValue = "127.0.0.1",
      description = "server host (default: ${DEFAULT-VALUE})")
  String host;

  @Option(names = "--port", paramLabel = "PORT", defaultValue = "5888",
      description = "server port (default: ${DEFAULT-VALUE})")
  int port;

  @Option(names = "--tls-pin", paramLabel = "SHA256",
      description = "speak TLS, trusting only the server certificate with this SHA-256 fingerprint")
  String tlsPin;

  @Option(names = "--tls-ca", paramLabel = "FILE",
      description = "speak TLS, trusting the certificates in this PEM file (host name checked)")
  Path tlsCa;

  @Option(names = "--domain", paramLabel = "DOMAIN", defaultValue = "example.com",
      description = "domain of the addresses to register; the server must serve it (default: ${DEFAULT-VALUE})")
  String domain;

  @Option(names = "--scenario", split = ",", defaultValue = "all", paramLabel = "NAME",
      description = "direct, fanout, paced, idle, disk or all; several with commas (default: ${DEFAULT-VALUE})")
  List<Which> scenarios;

  @Option(names = "--connections", paramLabel = "N", defaultValue = "8",
      description = "direct: connections, each its own address (default: ${DEFAULT-VALUE})")
  int connections;

  @Option(names = "--window", paramLabel = "N", defaultValue = "256",
      description = "unanswered frames per connection (default: ${DEFAULT-VALUE})")
  int window;

  @Option(names = "--messages", paramLabel = "N", defaultValue = "20000",
      description = "direct: messages in the timed round, all connections (default: ${DEFAULT-VALUE})")
  int messages;

  @Option(names = "--message-bytes", paramLabel = "N", defaultValue = "300",
      description = "frame size of a text message or group post (default: ${DEFAULT-VALUE})")
  int messageBytes;

  @Option(names = "--warmup-messages", paramLabel = "N", defaultValue = "5000",
      description = "direct: untimed messages first (default: ${DEFAULT-VALUE})")
  int warmupMessages;

  @Option(names = "--members", paramLabel = "N", defaultValue = "100",
      description = "fanout, paced: group members, each online (default: ${DEFAULT-VALUE})")
  int members;

  @Option(names = "--senders", paramLabel = "N", defaultValue = "2",
      description = "fanout: members posting at once (default: ${DEFAULT-VALUE})")
  int senders;

  @Option(names = "--fanout-posts", paramLabel = "N", defaultValue = "2000",
      description = "fanout: posts in the timed round (default: ${DEFAULT-VALUE})")
  int fanoutPosts;

  @Option(names = "--warmup-posts", paramLabel = "N", defaultValue = "200",
      description = "fanout, paced: untimed posts first (default: ${DEFAULT-VALUE})")
  int warmupPosts;

  @Option(names = "--rate", paramLabel = "N", defaultValue = "500",
      description = "paced: posts per second (default: ${DEFAULT-VALUE})")
  int rate;

  @Option(names = "--seconds", paramLabel = "N", defaultValue = "10",
      description = "paced: duration; also direct's run at half its max rate (default: ${DEFAULT-VALUE})")
  int seconds;

  @Option(names = "--idle-connections", paramLabel = "N", defaultValue = "2000",
      description = "idle: connections held open (default: ${DEFAULT-VALUE})")
  int idleConnections;

  @Option(names = "--disk-members", paramLabel = "N", defaultValue = "300",
      description = "disk: group members, offline (default: ${DEFAULT-VALUE})")
  int diskMembers;

  @Option(names = "--disk-post-bytes", paramLabel = "N", defaultValue = "61440",
      description = "disk: frame size of a post (default: ${DEFAULT-VALUE})")
  int diskPostBytes;

  @Option(names = "--disk-posts", paramLabel = "N", defaultValue = "1",
      description = "disk: posts measured (default: ${DEFAULT-VALUE})")
  int diskPosts;

  @Option(names = "--settle-seconds", paramLabel = "N", defaultValue = "2",
      description = "disk: least pause before each sample, which then waits until the server's disk is still"
          + " (default: ${DEFAULT-VALUE})")
  double settleSeconds;

  @Option(names = "--server-pid", paramLabel = "PID",
      description = "the server's pid, for CPU, memory and disk writes from /proc"
      + " (default: found from the listening port when the server runs on this host)")
  Long serverPid;

  @Option(names = "--data-dir", paramLabel = "DIR",
      description = "the server's data directory, for its growth (disk)")
  Path dataDir;

  @Option(names = "--jcmd", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "idle: the server's heap after GC by jcmd GC.run and GC.heap_info (default: on; --no-jcmd)")
  boolean jcmd;

  @Option(names = "--openssl-seconds", paramLabel = "N", defaultValue = "3",
      description = "seconds of openssl speed ed25519 for the yardstick; 0 skips it (default: ${DEFAULT-VALUE})")
  int opensslSeconds;

  @Option(names = "--timeout-seconds", paramLabel = "N", defaultValue = "120",
      description = "longest wait for answers or deliveries (default: ${DEFAULT-VALUE})")
  int timeoutSeconds;

  @Option(names = "--setup-parallelism", paramLabel = "N", defaultValue = "16",
      description = "connections set up at once (default: ${DEFAULT-VALUE})")
  int setupParallelism;

  @Option(names = "--json", paramLabel = "FILE",
      description = "write the JSON report here instead of after the table")
  Path json;

  private final PrintWriter out;
  private final PrintWriter err;

  LoadTool(PrintWriter out, PrintWriter err) {
    this.out = out;
    this.err = err;
  }

  public static void main(String[] args) {
    System.exit(run(new PrintWriter(new OutputStreamWriter(System.out, UTF_8), true),
        new PrintWriter(new OutputStreamWriter(System.err, UTF_8), true), args));
  }

  /** Runs one command line with the given streams and returns the exit code. */
  public static int run(PrintWriter out, PrintWriter err, String... args) {
    CommandLine cli = new CommandLine(new LoadTool(out, err));
    cli.setOut(out);
    cli.setErr(err);
    cli.setCaseInsensitiveEnumValuesAllowed(true);
    cli.setExecutionExceptionHandler((e, commandLine, parsed) -> {
      commandLine.getErr().println("esmp-load: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
      commandLine.getErr().flush();
      return 1;
    });
    int code = cli.execute(args);
    out.flush();
    err.flush();
    return code;
  }

  @Override
  public Integer call() throws Exception {
    Settings settings = settings();
    Target target = new Target(host, port, domain, 5_000,
        tlsPin != null ? Tls.pinned(tlsPin) : tlsCa != null ? Tls.trusting(tlsCa) : null);
    Hello hello;
    try {
      hello = ServerSession.hello(target, settings.timeoutMillis());
    } catch (IOException e) {
      err.println("esmp-load: " + e.getMessage());
      return 1;
    }
    if (!hello.serves(domain)) {
      err.println("esmp-load: the server at " + target + " serves " + hello.domains() + ", not " + domain
          + ": pass --domain " + hello.domain());
      return 1;
    }
    RunContext context = new RunContext(settings, target, Names.random(domain), new FrameSigner(), monitor(), err);
    if (opensslSeconds > 0) {
      context.progress("openssl speed -seconds %d ed25519", opensslSeconds);
    }
    OpensslSpeed.Result openssl = OpensslSpeed.measure(opensslSeconds);
    context.progress("openssl: %s",
        openssl.available() ? String.format("%.0f verify/s on one core", openssl.verifyPerSecond()) : openssl.error());
    MachineInfo machine = MachineInfo.current();
    Instant started = Instant.now();

    List<ScenarioResult> results = new ArrayList<>();
    try (GroupScenarios groups = new GroupScenarios()) {
      for (Scenario scenario : scenarios(groups)) {
        results.add(scenario.run(context));
      }
    }
    Map<String, Object> server = new LinkedHashMap<>();
    server.put("address", target.toString());
    server.put("domain", domain);
    server.putAll(context.monitor().describe());
    Report report = new Report(version(), started, parameters(), machine, openssl, server, results);
    new TableWriter(out).write(report);
    String document = JsonReport.write(report);
    if (json != null) {
      Files.writeString(json, document + "\n", UTF_8);
      out.println();
      out.println("JSON report: " + json);
    } else {
      out.println();
      out.println(document);
    }
    out.flush();
    return report.complete() ? 0 : 1;
  }

  private List<Scenario> scenarios(GroupScenarios groups) {
    Set<Which> chosen = scenarios.contains(Which.all) ? EnumSet.range(Which.direct, Which.disk)
        : EnumSet.copyOf(scenarios);
    List<Scenario> list = new ArrayList<>();
    for (Which which : chosen) { // EnumSet: in declaration order
      list.add(switch (which) {
        case direct -> new DirectScenario();
        case fanout -> new FanoutScenario(groups);
        case paced -> new PacedScenario(groups);
        case idle -> new IdleScenario();
        case disk -> new DiskScenario();
        case all -> throw new IllegalStateException("expanded above");
      });
    }
    return list;
  }

  private Settings settings() {
    positive("--connections", connections);
    positive("--window", window);
    positive("--messages", messages);
    positive("--members", members);
    positive("--senders", senders);
    positive("--fanout-posts", fanoutPosts);
    positive("--rate", rate);
    positive("--seconds", seconds);
    positive("--idle-connections", idleConnections);
    positive("--disk-members", diskMembers);
    positive("--disk-posts", diskPosts);
    positive("--timeout-seconds", timeoutSeconds);
    positive("--setup-parallelism", setupParallelism);
    if (messages < connections) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--messages must be at least --connections");
    }
    if (members < 2) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--members must be at least 2");
    }
    return new Settings(connections, window, messages, messageBytes, Math.max(0, warmupMessages), members, senders,
        fanoutPosts, Math.max(0, warmupPosts), rate, seconds, idleConnections, diskMembers, diskPostBytes, diskPosts,
        Math.max(0, settleSeconds), timeoutSeconds, setupParallelism, jcmd);
  }

  private void positive(String option, long value) {
    if (value <= 0) {
      throw new CommandLine.ParameterException(new CommandLine(this), option + " must be positive, not " + value);
    }
  }

  private ServerMonitor monitor() {
    ProcessSampler sampler = null;
    String source;
    if (serverPid != null) {
      sampler = new ProcessSampler(serverPid);
      source = sampler.alive() ? "--server-pid" : "--server-pid, but /proc/" + serverPid + " is not readable";
      if (!sampler.alive()) {
        sampler = null;
      }
    } else if (isLocal(host)) {
      OptionalLong found = new ServerPidFinder().find(port);
      source = found.isPresent() ? "found from the listening port"
          : "not found from the port (another user's process?)";
      sampler = found.isPresent() ? new ProcessSampler(found.getAsLong()) : null;
    } else {
      source = "server on another host";
    }
    Jcmd jcmdTool = jcmd ? Jcmd.find().orElse(null) : null;
    return new ServerMonitor(sampler, source, dataDir, jcmdTool);
  }

  private static boolean isLocal(String host) {
    try {
      InetAddress address = InetAddress.getByName(host);
      return address.isLoopbackAddress() || address.isAnyLocalAddress()
          || NetworkInterface.getByInetAddress(address) != null;
    } catch (IOException e) {
      return false;
    }
  }

  private Map<String, Object> parameters() {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("host", host);
    p.put("port", port);
    p.put("domain", domain);
    p.put("scenarios", scenarios.stream().map(Enum::name).toList());
    p.put("connections", connections);
    p.put("window", window);
    p.put("messages", messages);
    p.put("message_bytes", messageBytes);
    p.put("warmup_messages", warmupMessages);
    p.put("members", members);
    p.put("senders", senders);
    p.put("fanout_posts", fanoutPosts);
    p.put("warmup_posts", warmupPosts);
    p.put("rate", rate);
    p.put("seconds", seconds);
    p.put("idle_connections", idleConnections);
    p.put("disk_members", diskMembers);
    p.put("disk_post_bytes", diskPostBytes);
    p.put("disk_posts", diskPosts);
    p.put("settle_seconds", settleSeconds);
    p.put("server_pid", serverPid);
    p.put("data_dir", dataDir == null ? null : dataDir.toString());
    p.put("jcmd", jcmd);
    p.put("openssl_seconds", opensslSeconds);
    p.put("timeout_seconds", timeoutSeconds);
    p.put("setup_parallelism", setupParallelism);
    return p;
  }

  static String version() {
    String version = LoadTool.class.getPackage().getImplementationVersion();
    return version == null ? "(development build)" : version;
  }

  /** The version from the jar's manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"esmp-load " + version()};
    }
  }
}
