package org.esmp.server;

import static org.esmp.server.testing.Frames.assertAck;
import static org.esmp.server.testing.Frames.assertEachAckedOnce;
import static org.esmp.server.testing.Frames.authenticate;
import static org.esmp.server.testing.Frames.mailboxIds;
import static org.esmp.server.testing.Frames.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;
import org.esmp.server.testing.ChildServer;
import org.esmp.server.testing.TestClient;
import org.esmp.server.testing.TestIdentity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server runs in a child process and is killed with SIGKILL while a client streams direct
 * messages and group posts. After a restart on the same data directory, every direct message that
 * had been acked is in the recipient's mailbox exactly once, and the group's thread holds every
 * acked post at its acked seq, gapless. Repeated, on one growing data directory.
 */
class CrashIT {

  private static final int ROUNDS = 6;

  @TempDir Path data;
  @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.ON_SUCCESS) Path logs;

  @Test
  void everyAckedMessageSurvivesSigkillExactlyOnce() throws Exception {
    Random random = new Random();
    TestIdentity alice = TestIdentity.random();
    TestIdentity bob = TestIdentity.random();
    Set<String> acked = ConcurrentHashMap.newKeySet();
    java.util.Map<Long, String> ackedSeqs = new ConcurrentHashMap<>();
    String group = java.util.UUID.randomUUID().toString();
    for (int round = 1; round <= ROUNDS; round++) {
      ChildServer server = startChild(round);
      try {
        int port = server.port();
        try (TestClient a = new TestClient(port); TestClient b = new TestClient(port)) {
          authenticate(a, alice, "alice#example.com");
          authenticate(b, bob, "bob#example.com");
          if (round == 1) {
            assertEquals(1, assertAck(a.call(alice.frame(groupMessage("group_created", group,
                JsonObject.builder().put("members", JsonArray.ofStrings(List.of("bob#example.com"))).build()))))
                .path("seq").asLong());
            ackedSeqs.put(1L, "created");
          }
          java.util.concurrent.atomic.AtomicInteger answered = new java.util.concurrent.atomic.AtomicInteger();
          Thread reader = new Thread(() -> {
            try {
              while (true) {
                JsonNode answer = a.read();
                answered.incrementAndGet();
                if (!answer.path("type").asText().equals("ack")) {
                  continue;
                }
                if (answer.has("seq")) {
                  ackedSeqs.put(answer.path("seq").asLong(), answer.path("re").asText());
                } else {
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
          int killAfter = acked.size() + ackedSeqs.size() + 100 + random.nextInt(800);
          long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
          int sent = 0;
          try {
            while (acked.size() + ackedSeqs.size() < killAfter && System.nanoTime() < deadline) {
              if (sent - answered.get() > 1000) {
                Thread.sleep(1); // enough in flight: many messages are mid-commit at the kill
                continue;
              }
              StringBuilder batch = new StringBuilder();
              for (int i = 0; i < 20; i++) {
                String words = "round " + round + " message " + sent++;
                JsonObject message = i % 2 == 0
                    ? text(words, "bob#example.com")
                    : groupMessage("text", group, JsonObject.builder().put("text", words).build());
                batch.append(alice.frame(message)).append('\n');
              }
              a.sendRaw(batch.toString().getBytes(StandardCharsets.UTF_8));
            }
          } finally {
            server.kill();
          }
          reader.join(10_000);
          assertTrue(sent > 0);
        }
      } finally {
        server.kill();
      }
    }
    assertTrue(acked.size() > 0, "some messages were acked before the kills");

    ChildServer server = startChild(ROUNDS + 1);
    try (TestClient b = new TestClient(server.port())) {
      authenticate(b, bob, "bob#example.com");
      List<String> delivered = mailboxIds(b, bob);
      System.out.println("CrashIT: " + ROUNDS + " kills, " + acked.size() + " direct messages acked, "
          + delivered.size() + " mailbox entries (direct and group)");
      assertEachAckedOnce(delivered, acked);
      assertAck(b.call(bob.frame(text("still serving", "alice#example.com"))));

      // The thread: every acked post at its acked seq, and seqs 1..N without a gap.
      java.util.Map<Long, String> thread = new java.util.TreeMap<>();
      Long before = null;
      JsonNode page;
      do {
        JsonObject.Builder body = JsonObject.builder().put("limit", 500);
        if (before != null) {
          body.put("before", before);
        }
        page = b.call(bob.frame(groupMessage("history", group, body.build())));
        assertEquals("history", page.path("type").asText(), page.toString());
        for (JsonNode entry : page.path("entries")) {
          before = entry.path("seq").asLong();
          thread.put(before, entry.path("id").asText());
          if (before > 1) { // a post, kept once for the thread and both members' mailboxes: read whole
            assertTrue(entry.path("message").path("body").path("text").asText().startsWith("round "), entry.toString());
          }
        }
      } while (page.path("more").asBoolean());
      assertEquals(thread.size(), ((java.util.TreeMap<Long, String>) thread).lastKey().intValue(),
          "no gap in the thread");
      for (var post : ackedSeqs.entrySet()) {
        assertTrue(thread.containsKey(post.getKey()), "acked seq " + post.getKey() + " is in the thread");
        if (post.getKey() > 1) {
          assertEquals(post.getValue(), thread.get(post.getKey()), "seq " + post.getKey() + " holds the acked message");
        }
      }
      System.out.println("CrashIT: group thread of " + thread.size() + " entries, " + ackedSeqs.size() + " acked");
    } finally {
      server.stop();
    }
  }

  private static JsonObject groupMessage(String type, String group, JsonObject body) {
    return JsonObject.builder().put("type", type).put("to", JsonArray.of()).put("group_id", group)
        .put("body", body).put("ts", org.esmp.server.testing.Frames.now()).build();
  }

  /** Starts the real server in a child JVM, its output in {@code logs}. */
  private ChildServer startChild(int round) throws IOException {
    // Odd rounds checkpoint the storage journal often, so that kills land in checkpoints too.
    long checkpointBytes = round % 2 == 1 ? 256L << 10 : 64L << 20;
    return ChildServer.builder(data, logs.resolve("server-" + round + ".log"))
        .jvmArg("-Desmp.storage-mapdb.checkpoint-bytes=" + checkpointBytes)
        .output(this::log)
        .start();
  }

  /** Every round's log so far, for a failure to start. */
  private String log() {
    StringBuilder all = new StringBuilder();
    for (File file : logs.toFile().listFiles()) {
      try {
        all.append(file.getName()).append(":\n").append(java.nio.file.Files.readString(file.toPath()));
      } catch (IOException e) {
        all.append(file.getName()).append(": ").append(e);
      }
    }
    return all.toString();
  }
}
