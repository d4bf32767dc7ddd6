package org.esmp.server.testing;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One server of a federation test, in a child JVM ({@link ChildServer}): its domain, data
 * directory, port and server key are fixed before it first starts, so that each peer's {@code
 * esmp.yaml} can name and pin the others ({@code peers:}); the key is what {@code
 * --print-server-key} prints for its data directory. Each start logs to a file of its own.
 */
public final class FederatedServer implements AutoCloseable {

  /**
   * Federation timings short enough for tests: a peer that comes back is retried within a second,
   * and a forward to one that is down is answered within seconds.
   */
  public static final String FAST_FEDERATION_YAML = String.join("\n",
      "federation_retry_max_seconds: 1", "federation_connect_seconds: 5", "federation_answer_seconds: 5", "");

  private final String domain;
  private final Path data;
  private final Path logs;
  private final int port;
  private final String key;
  private final Map<String, String> peers = new LinkedHashMap<>();
  private String settings = "";
  private Path pluginsDir;
  private int starts;
  private ChildServer child;

  private FederatedServer(String domain, Path data, Path logs, int port, String key) {
    this.domain = domain;
    this.data = data;
    this.logs = logs;
    this.port = port;
    this.key = key;
  }

  /**
   * A server for {@code domain} with its data and logs under {@code dir}, on a port chosen now,
   * with its server key made now (not started).
   */
  public static FederatedServer create(String domain, Path dir) throws Exception {
    Path data = dir.resolve(domain).resolve("data");
    Path logs = dir.resolve(domain).resolve("logs");
    Files.createDirectories(logs);
    return new FederatedServer(domain, data, logs, ChildServer.freePort(), ChildServer.printServerKey(data));
  }

  public String domain() {
    return domain;
  }

  public int port() {
    return port;
  }

  /** Its server key, standard base64, as its {@code hello} announces it. */
  public String key() {
    return key;
  }

  public Path data() {
    return data;
  }

  /** {@code local#domain}. */
  public String address(String local) {
    return local + "#" + domain;
  }

  /** Configures each of {@code others} as a peer, pinned to its real key. Takes effect at the next start. */
  public FederatedServer pin(FederatedServer... others) {
    for (FederatedServer other : others) {
      peer(other.domain, other.port, other.key);
    }
    return this;
  }

  /** Configures the peer {@code domain} on 127.0.0.1:{@code port}, pinned to {@code key} (none when null), replacing any. */
  public FederatedServer peer(String domain, int port, String key) {
    peers.put(domain, "  - domain: " + domain + "\n    host: 127.0.0.1\n    port: " + port + "\n"
        + (key != null ? "    key: \"" + key + "\"\n" : ""));
    return this;
  }

  /** More lines of {@code esmp.yaml} (after the peers and {@link #FAST_FEDERATION_YAML}). */
  public FederatedServer settings(String yaml) {
    this.settings = yaml;
    return this;
  }

  /** The plugin jars it loads; {@link TestServers#pluginsDir} by default. */
  public FederatedServer pluginsDir(Path pluginsDir) {
    this.pluginsDir = pluginsDir;
    return this;
  }

  /** The {@code esmp.yaml} lines it starts with, besides the unthrottled limits. */
  public String yaml() {
    StringBuilder yaml = new StringBuilder();
    if (!peers.isEmpty()) {
      yaml.append("peers:\n");
      peers.values().forEach(yaml::append);
    }
    return yaml.append(FAST_FEDERATION_YAML).append(settings).toString();
  }

  /** Starts it on its port and data directory; returns at once ({@link #awaitServing} waits). */
  public FederatedServer launch() throws IOException {
    if (running()) {
      throw new IllegalStateException(domain + " runs already");
    }
    starts++;
    ChildServer.Builder builder = ChildServer.builder(data, logs.resolve("start-" + starts + ".log"))
        .domain(domain).port(port).settings(yaml()).output(this::log);
    if (pluginsDir != null) {
      builder.pluginsDir(pluginsDir);
    }
    child = builder.start();
    return this;
  }

  /** Waits until it serves (fails if it exits or takes over 60 s). */
  public FederatedServer awaitServing() throws Exception {
    child.port();
    return this;
  }

  /** Starts it and waits until it serves. */
  public FederatedServer start() throws Exception {
    return launch().awaitServing();
  }

  /** Starts all of {@code servers} at once, then waits until each serves. */
  public static void startAll(FederatedServer... servers) throws Exception {
    for (FederatedServer server : servers) {
      server.launch();
    }
    for (FederatedServer server : servers) {
      server.awaitServing();
    }
  }

  public boolean running() {
    return child != null && child.process().isAlive();
  }

  /** SIGTERM, a clean stop; fails unless it ends within 30 s. */
  public void stop() throws Exception {
    if (!child.stop()) {
      throw new IllegalStateException(domain + " did not stop within 30 s" + log());
    }
  }

  /** SIGKILL. */
  public void kill() throws Exception {
    if (!child.kill()) {
      throw new IllegalStateException(domain + " did not die within 30 s");
    }
  }

  /** Registers a fresh {@code nameN#domain} on it. */
  public TestUser register(String name) throws Exception {
    return TestUser.register(port, name, domain);
  }

  /**
   * What {@code user}'s mailbox here holds now, oldest first: the {@code deliver} frames of a sync
   * from 0 on a new connection.
   */
  public List<JsonNode> mailbox(TestUser user) throws Exception {
    try (TestClient client = new TestClient(port)) {
      Frames.authenticate(client, user.key(), user.address());
      List<JsonNode> frames = Frames.syncAll(client, user.key(), 0);
      JsonNode last = frames.get(frames.size() - 1);
      if (!last.path("type").asText().equals("synced")) {
        throw new AssertionError("sync answered " + last + "\n" + log());
      }
      return new ArrayList<>(frames.subList(0, frames.size() - 1));
    }
  }

  /** The lines of every start's log so far. */
  public List<String> logLines() {
    List<String> lines = new ArrayList<>();
    for (int i = 1; i <= starts; i++) {
      try {
        lines.addAll(Files.readAllLines(logs.resolve("start-" + i + ".log")));
      } catch (IOException e) {
        lines.add("(start " + i + ": no log: " + e + ")");
      }
    }
    return lines;
  }

  /** Every start's log so far, under a header naming the server, for failure messages. */
  public String log() {
    return "\n--- " + domain + " (port " + port + ", " + starts + " starts) ---\n" + String.join("\n", logLines());
  }

  /** Kills it, if it runs. */
  @Override
  public void close() throws Exception {
    if (child != null) {
      child.kill();
    }
  }
}
