package org.esmp.server;

import static org.esmp.server.testing.Frames.assertAck;
import static org.esmp.server.testing.Frames.authenticate;
import static org.esmp.server.testing.Frames.sync;
import static org.esmp.server.testing.Frames.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.esmp.server.testing.TestClient;
import org.esmp.server.testing.TestIdentity;
import org.esmp.server.testing.TestServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server runs in a child process and is killed with SIGKILL while a client streams messages.
 * After a restart on the same data directory, every message that had been acked is in the
 * recipient's mailbox exactly once. Repeated, on one growing data directory.
 */
class CrashIT {

  private static final int ROUNDS = 6;

  @TempDir Path data;
  @TempDir Path logs;

  @Test
  void everyAckedMessageSurvivesSigkillExactlyOnce() throws Exception {
    Random random = new Random();
    TestIdentity alice = TestIdentity.random();
    TestIdentity bob = TestIdentity.random();
    Set<String> acked = ConcurrentHashMap.newKeySet();
    for (int round = 1; round <= ROUNDS; round++) {
      Process server = startChild(round);
      try {
        int port = portOf(server);
        try (TestClient a = new TestClient(port); TestClient b = new TestClient(port)) {
          authenticate(a, alice, "alice#example.com");
          authenticate(b, bob, "bob#example.com");
          Thread reader = new Thread(() -> {
            try {
              while (true) {
                JsonNode answer = a.read();
                if (answer.path("type").asText().equals("ack")) {
                  acked.add(answer.path("re").asText());
                }
              }
            } catch (IOException closed) {
              // the server was killed
            }
          });
          reader.start();
          // Kill once a random number of this round's messages were acked (the server is then
          // warm and busy, many messages in flight), or after 20 s at the latest.
          int killAfter = acked.size() + 50 + random.nextInt(400);
          long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
          int sent = 0;
          try {
            while (acked.size() < killAfter && System.nanoTime() < deadline) {
              StringBuilder batch = new StringBuilder();
              for (int i = 0; i < 20; i++) {
                batch.append(alice.frame(text("round " + round + " message " + sent++, "bob#example.com"))).append('\n');
              }
              a.sendRaw(batch.toString().getBytes(StandardCharsets.UTF_8));
            }
          } finally {
            server.destroyForcibly(); // SIGKILL on Linux
            server.waitFor(30, TimeUnit.SECONDS);
          }
          reader.join(10_000);
          assertTrue(sent > 0);
        }
      } finally {
        server.destroyForcibly();
      }
    }
    assertTrue(acked.size() > 0, "some messages were acked before the kills");

    Process server = startChild(ROUNDS + 1);
    try (TestClient b = new TestClient(portOf(server))) {
      authenticate(b, bob, "bob#example.com");
      b.send(bob.frame(sync(0)));
      List<String> delivered = new ArrayList<>();
      JsonNode frame;
      while ((frame = b.read()).path("type").asText().equals("deliver")) {
        delivered.add(frame.path("id").asText());
      }
      Set<String> distinct = new HashSet<>(delivered);
      System.out.println("CrashIT: " + ROUNDS + " kills, " + acked.size() + " acked, " + delivered.size()
          + " in the mailbox (stored but not acked before a kill: " + (delivered.size() - acked.size()) + ")");
      assertEquals(delivered.size(), distinct.size(), "no message is in the mailbox twice");
      Set<String> lost = acked.stream().filter(id -> !distinct.contains(id)).collect(Collectors.toSet());
      assertTrue(lost.isEmpty(), lost.size() + " of " + acked.size() + " acked messages were lost");
      assertAck(b.call(bob.frame(text("still serving", "alice#example.com"))));
    } finally {
      server.destroy();
      server.waitFor(30, TimeUnit.SECONDS);
    }
  }

  /** Starts the real server's main class in a child JVM on a free port. */
  private Process startChild(int round) throws IOException {
    int port;
    try (ServerSocket probe = new ServerSocket(0)) {
      port = probe.getLocalPort();
    }
    String classpath = System.getProperty("java.class.path");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder builder = new ProcessBuilder(java, "-Xmx256m", "-cp", classpath, Main.class.getName(),
        "--bind", "127.0.0.1", "--port", Integer.toString(port), "--domain", "example.com",
        "--data-dir", data.toString(), "--plugins-dir", TestServers.pluginsDir().toString());
    builder.redirectErrorStream(true);
    builder.redirectOutput(logs.resolve("server-" + round + ".log").toFile());
    Process process = builder.start();
    ports.put(process, port);
    return process;
  }

  private final java.util.Map<Process, Integer> ports = new ConcurrentHashMap<>();

  /** Waits until the child serves; returns its port. */
  private int portOf(Process process) throws Exception {
    int port = ports.get(process);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        fail("the server exited with " + process.exitValue() + ": " + log());
      }
      try (TestClient probe = new TestClient(port)) {
        return port;
      } catch (IOException notYet) {
        Thread.sleep(100);
      }
    }
    fail("the server did not start within 60 s: " + log());
    return -1;
  }

  private String log() throws IOException {
    StringBuilder all = new StringBuilder();
    for (File file : logs.toFile().listFiles()) {
      all.append(file.getName()).append(":\n").append(java.nio.file.Files.readString(file.toPath()));
    }
    return all.toString();
  }
}
