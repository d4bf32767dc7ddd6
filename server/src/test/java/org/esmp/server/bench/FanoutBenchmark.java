package org.esmp.server.bench;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;
import org.esmp.server.EsmpServer;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.testing.TestIdentity;
import org.esmp.server.testing.TestServers;

/**
 * Group fan-out: live deliveries per second to the members of one group. MEMBERS connections, each
 * authenticated as its own address, join one open group and sync; one of them then pipelines POSTS
 * pre-signed posts into the group, and one client thread counts the {@code deliver} frames arriving
 * on every connection (a selector, so that the clients take little of the machine's CPU) until
 * each member has all of them. It prints deliveries per second and the server's CPU time per
 * delivery when it runs in another process ({@code -Dpid}).
 *
 * <p>{@code -Dport=P}: a server already running on 127.0.0.1:P (domain example.com, registration
 * open, rate limits, {@code registrations_per_ip_per_hour} and {@code max_connections_per_ip}
 * raised, as in docs/PERFORMANCE.md), with {@code -Dpid=<its pid>} for its CPU time (Linux
 * {@code /proc}), in all and by kind of thread; else a server in this process. Each round uses new
 * addresses and a new group. Options: {@code -Dmembers=100 -Dposts=2000 -Drounds=3}.
 *
 * <p>Run: {@code mvn -B -q install -DskipTests} once, then
 * {@code mvn -B -q -pl server pre-integration-test exec:java@fanout -DskipTests}.
 */
public final class FanoutBenchmark {

  private static final byte[] DELIVER = "{\"type\":\"deliver\"".getBytes(StandardCharsets.US_ASCII);

  public static void main(String[] args) throws Exception {
    int members = Integer.getInteger("members", 100);
    int posts = Integer.getInteger("posts", 2000);
    int rounds = Integer.getInteger("rounds", 3);
    Long pid = Long.getLong("pid");
    Integer external = Integer.getInteger("port");
    if (external != null) {
      for (int round = 1; round <= rounds; round++) {
        run(external, members, posts, round, pid);
      }
      return;
    }
    Path data = Files.createTempDirectory("esmp-fanout");
    Path plugins = Path.of(System.getProperty("plugins", "server/target/it-plugins"));
    try (EsmpServer server = EsmpServer.start(TestServers.unthrottled(ServerConfig.builder().bind("127.0.0.1").port(0)
        .domain("example.com").dataDir(data).pluginsDir(plugins)).maxConnectionsPerIp(members + 10).build())) {
      for (int round = 1; round <= rounds; round++) {
        run(server.port(), members, posts, round, null);
      }
    }
  }

  private static void run(int port, int members, int posts, int round, Long pid) throws Exception {
    String run = UUID.randomUUID().toString().substring(0, 8);
    String group = UUID.randomUUID().toString();
    List<Member> all = new ArrayList<>();
    for (int m = 0; m < members; m++) {
      all.add(Member.connect(port, "fan" + run + "x" + m + "#example.com"));
    }
    Member sender = all.get(0);
    sender.call(event(sender, "group_created", group, JsonObject.builder().put("name", "fanout")
        .put("members", JsonArray.of()).put("policy", "open").build()));
    for (Member member : all.subList(1, members)) {
      member.call(event(member, "joined", group, JsonObject.empty()));
    }
    for (Member member : all) {
      member.sync();
    }
    StringBuilder burst = new StringBuilder();
    for (int i = 0; i < posts; i++) {
      burst.append(event(sender, "text", group, JsonObject.builder()
          .put("text", "post " + i + " of round " + round + ": a few words of an ordinary message").build())).append('\n');
    }
    byte[] payload = burst.toString().getBytes(StandardCharsets.UTF_8);

    Selector selector = Selector.open();
    long[] delivered = new long[members];
    // Per member, the line being read: how many of its first bytes were seen (up to DELIVER's
    // length), and whether they are DELIVER's so far.
    int[] lineAt = new int[members];
    boolean[] deliverLine = new boolean[members];
    for (int m = 0; m < members; m++) {
      SocketChannel channel = all.get(m).socket.getChannel();
      channel.configureBlocking(false);
      channel.register(selector, SelectionKey.OP_READ, m);
      deliverLine[m] = true;
    }
    long cpuBefore = pid == null ? -1 : cpuNanos(pid);
    Map<String, Long> threadsBefore = pid == null ? Map.of() : cpuByThread(pid);
    long start = System.nanoTime();
    Thread writer = new Thread(() -> {
      try {
        ByteBuffer out = ByteBuffer.wrap(payload);
        SocketChannel channel = sender.socket.getChannel();
        while (out.hasRemaining()) {
          if (channel.write(out) == 0) {
            Thread.sleep(1);
          }
        }
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    writer.start();
    ByteBuffer in = ByteBuffer.allocateDirect(1 << 16);
    byte[] chunk = new byte[1 << 16];
    long expected = (long) members * posts;
    long total = 0;
    while (total < expected) {
      if (selector.select(10_000) == 0) {
        throw new IllegalStateException("no delivery for 10 s after " + total + " of " + expected);
      }
      for (SelectionKey key : selector.selectedKeys()) {
        int m = (Integer) key.attachment();
        in.clear();
        int read = ((SocketChannel) key.channel()).read(in);
        if (read < 0) {
          throw new IllegalStateException("member " + m + " was disconnected");
        }
        in.flip();
        in.get(chunk, 0, read);
        for (int i = 0; i < read; i++) {
          byte b = chunk[i];
          if (b == '\n') {
            if (deliverLine[m] && lineAt[m] >= DELIVER.length) {
              delivered[m]++;
              total++;
            }
            lineAt[m] = 0;
            deliverLine[m] = true;
          } else if (lineAt[m] < DELIVER.length) {
            deliverLine[m] &= b == DELIVER[lineAt[m]];
            lineAt[m]++;
          }
        }
      }
      selector.selectedKeys().clear();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    long cpu = pid == null ? -1 : cpuNanos(pid) - cpuBefore;
    Map<String, Long> threads = pid == null ? Map.of() : cpuByThread(pid);
    writer.join();
    selector.close();
    for (int m = 0; m < members; m++) {
      if (delivered[m] != posts) {
        throw new IllegalStateException("member " + m + " got " + delivered[m] + " deliveries of " + posts);
      }
    }
    for (Member member : all) {
      member.socket.close();
    }
    System.out.printf("round %d: %d members x %d posts: %d deliveries in %.2f s = %.0f deliveries/s%s%n",
        round, members, posts, total, seconds, total / seconds,
        cpu < 0 ? "" : String.format(", server CPU %.2f s = %.2f µs per delivery", cpu / 1e9, cpu / 1e3 / total));
    if (pid != null) {
      StringBuilder split = new StringBuilder("  CPU per delivery by thread (µs):");
      for (Map.Entry<String, Long> kind : threads.entrySet()) {
        long spent = kind.getValue() - threadsBefore.getOrDefault(kind.getKey(), 0L);
        split.append(String.format(" %s %.2f", kind.getKey(), spent / 1e3 / total));
      }
      System.out.println(split);
    }
  }

  private static String event(Member member, String type, String group, JsonObject body) {
    return member.key.frame(JsonObject.builder().put("type", type).put("to", JsonArray.of()).put("group_id", group)
        .put("body", body).put("ts", System.currentTimeMillis()).build());
  }

  /** User and system CPU time of process {@code pid} (Linux /proc), in nanoseconds. */
  private static long cpuNanos(long pid) throws Exception {
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime, stime
    return ticks * 10_000_000L; // USER_HZ = 100
  }

  /**
   * CPU time of process {@code pid}'s threads (Linux /proc) by kind: workers, event loops, the
   * storage's commit thread, the plugins' threads, the rest (GC, JIT …); in nanoseconds.
   */
  private static Map<String, Long> cpuByThread(long pid) throws Exception {
    Map<String, Long> kinds = new TreeMap<>();
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/" + pid + "/task"))) {
      for (Path task : tasks) {
        String name;
        String stat;
        try {
          name = Files.readString(task.resolve("comm")).strip();
          stat = Files.readString(task.resolve("stat"));
        } catch (IOException gone) {
          continue; // the thread ended
        }
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long nanos = (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * 10_000_000L;
        String kind = name.startsWith("esmp-worker") ? "workers"
            : name.startsWith("multiThreadIo") ? "event-loops"
            : name.startsWith("storage-mapdb-c") ? "commit"
            : name.startsWith("esmp-plugin") || name.startsWith("group-threads") ? "plugins"
            : "other";
        kinds.merge(kind, nanos, Long::sum);
      }
    }
    return kinds;
  }

  /** One member's connection, authenticated. */
  private record Member(Socket socket, InputStream in, TestIdentity key) {

    static Member connect(int port, String address) throws Exception {
      SocketChannel channel = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
      Socket socket = channel.socket();
      InputStream in = new BufferedInputStream(socket.getInputStream());
      String hello = readLine(in);
      int at = hello.indexOf("\"challenge\":\"") + 13;
      String challenge = hello.substring(at, hello.indexOf('"', at));
      TestIdentity key = TestIdentity.random();
      Member member = new Member(socket, in, key);
      member.call(key.frame(JsonObject.builder().put("type", "auth").put("to", JsonArray.of())
          .put("body", JsonObject.builder().put("address", address).put("challenge", challenge)
              .put("domain", "example.com").build()).put("ts", System.currentTimeMillis()).build()));
      return member;
    }

    /** Sends {@code frame} and reads lines until its ack (deliveries before it are skipped). */
    void call(String frame) throws Exception {
      OutputStream out = socket.getOutputStream();
      out.write((frame + "\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      for (String line = readLine(in); !line.startsWith("{\"type\":\"ack\""); line = readLine(in)) {
        if (line.startsWith("{\"type\":\"error\"") || line.isEmpty()) {
          throw new IllegalStateException("refused: " + line);
        }
      }
    }

    /** Syncs from 0 and reads the backlog up to {@code synced}. */
    void sync() throws Exception {
      OutputStream out = socket.getOutputStream();
      out.write((key.frame(JsonObject.builder().put("type", "sync").put("to", JsonArray.of())
          .put("body", JsonObject.builder().put("since", 0).build()).put("ts", System.currentTimeMillis()).build())
          + "\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      for (String line = readLine(in); !line.startsWith("{\"type\":\"synced\""); line = readLine(in)) {
        if (line.startsWith("{\"type\":\"error\"") || line.isEmpty()) {
          throw new IllegalStateException("refused: " + line);
        }
      }
    }

    private static String readLine(InputStream in) throws Exception {
      StringBuilder line = new StringBuilder();
      int b;
      while ((b = in.read()) != -1 && b != '\n') {
        line.append((char) b);
      }
      return line.toString();
    }
  }
}
