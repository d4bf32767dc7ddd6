package org.esmp.server.bench;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;
import org.esmp.server.EsmpServer;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.testing.TestIdentity;
import org.esmp.server.testing.TestServers;

/**
 * Messages per second through the whole path: TCP, framing, I-JSON parse, RFC 8785, Ed25519,
 * dispatch to plugins loaded by PF4J, answer. Starts the server in this process with the bundled
 * and test plugins, opens CONNECTIONS client connections each with its own key, and streams
 * MESSAGES pre-signed frames over each, pipelined, reading answers on a second thread.
 *
 * <p>{@code -Dmode=text} (default): direct {@code text} messages, each durably stored in another
 * user's mailbox before its ack. {@code -Dmode=echo}: the echo test plugin, nothing stored: the
 * ceiling set by parsing and verification.
 *
 * <p>{@code -Dport=P}: measures a server already running on 127.0.0.1:P instead (domain
 * example.com, registration open; for echo mode with the echo test plugin in its plugins
 * directory), from this separate JVM: the server's numbers without the clients' share of its CPU
 * and heap. Give each run a fresh data directory: the benchmark's addresses are the same each run.
 *
 * <p>Run (see docs/PERFORMANCE.md): {@code mvn -B -q install -DskipTests} once, then
 * {@code mvn -B -q -pl server pre-integration-test exec:java@throughput -DskipTests}.
 */
public final class ThroughputBenchmark {

  public static void main(String[] args) throws Exception {
    int connections = Integer.getInteger("connections", 8);
    int messages = Integer.getInteger("messages", 20_000);
    boolean durable = System.getProperty("mode", "text").equals("text");
    Path plugins = Path.of(System.getProperty("plugins", "server/target/it-plugins"));
    if (!Files.isDirectory(plugins)) {
      plugins = Path.of("target/it-plugins");
    }
    Integer external = Integer.getInteger("port");
    if (external != null) {
      for (int round = 1; round <= 3; round++) {
        run(external, connections, messages, round, durable);
      }
      return;
    }
    Path data = Files.createTempDirectory("esmp-bench");
    // Loopback clients pipelining thousands of frames: the per-IP and per-address rates raised.
    try (EsmpServer server = EsmpServer.start(TestServers.unthrottled(ServerConfig.builder().bind("127.0.0.1").port(0)
        .domain("example.com").dataDir(data).pluginsDir(plugins)).maxConnectionsPerIp(Math.max(100, connections)).build())) {
      for (int round = 1; round <= 3; round++) {
        run(server.port(), connections, messages, round, durable);
      }
    }
  }

  private static void run(int port, int connections, int messages, int round, boolean durable) throws Exception {
    List<Socket> sockets = new ArrayList<>();
    List<byte[]> payloads = new ArrayList<>();
    for (int c = 0; c < connections; c++) {
      Socket socket = new Socket("127.0.0.1", port);
      InputStream in = new BufferedInputStream(socket.getInputStream());
      String challenge = readHelloChallenge(in);
      TestIdentity me = TestIdentity.random();
      String address = "bench" + round + "x" + c + "#example.com";
      socket.getOutputStream().write((me.frame(JsonObject.builder().put("type", "auth").put("to", JsonArray.of())
          .put("body", JsonObject.builder().put("address", address).put("challenge", challenge)
              .put("domain", "example.com").build()).build()) + "\n").getBytes(StandardCharsets.UTF_8));
      readLine(in);
      StringBuilder all = new StringBuilder();
      long ts = System.currentTimeMillis();
      String recipient = "bench" + round + "x" + ((c + 1) % connections) + "#example.com";
      for (int i = 0; i < messages; i++) {
        all.append(me.frame(JsonObject.builder().put("type", durable ? "text" : "echo")
            .put("to", durable ? JsonArray.ofStrings(List.of(recipient)) : JsonArray.of())
            .put("body", JsonObject.builder().put("text", "message number " + i + " of a benchmark run").build())
            .put("ts", ts + i).build())).append('\n');
      }
      sockets.add(socket);
      payloads.add(all.toString().getBytes(StandardCharsets.UTF_8));
    }
    AtomicLong answered = new AtomicLong();
    List<Thread> threads = new ArrayList<>();
    long start = System.nanoTime();
    for (int c = 0; c < connections; c++) {
      Socket socket = sockets.get(c);
      byte[] payload = payloads.get(c);
      Thread writer = new Thread(() -> {
        try {
          OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 1 << 16);
          out.write(payload);
          out.flush();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      Thread reader = new Thread(() -> {
        try {
          InputStream in = new BufferedInputStream(socket.getInputStream(), 1 << 16);
          for (int i = 0; i < messages; i++) {
            String line = readLine(in);
            if (!line.startsWith(durable ? "{\"type\":\"ack\"" : "{\"type\":\"echo\"")) {
              throw new IllegalStateException("unexpected answer: " + line);
            }
            answered.incrementAndGet();
          }
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      threads.add(writer);
      threads.add(reader);
      writer.start();
      reader.start();
    }
    for (Thread thread : threads) {
      thread.join();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    for (Socket socket : sockets) {
      socket.close();
    }
    System.out.printf("round %d (%s): %d connections x %d messages: %d answered in %.2f s = %.0f messages/s%n",
        round, durable ? "text, durably stored" : "echo, not stored", connections, messages, answered.get(), seconds,
        answered.get() / seconds);
  }

  private static String readHelloChallenge(InputStream in) throws Exception {
    String hello = readLine(in);
    int at = hello.indexOf("\"challenge\":\"") + 13;
    return hello.substring(at, hello.indexOf('"', at));
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
