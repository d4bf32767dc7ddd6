package org.esmp.server;

import static org.esmp.server.testing.Frames.assertAck;
import static org.esmp.server.testing.Frames.now;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;
import org.esmp.server.testing.SharedServerTest;
import org.esmp.server.testing.TestUser;
import org.junit.jupiter.api.Test;

/**
 * Several members of one busy group, each on its own connection, each pipelining posts into the
 * group at once: every connection gets the answer to each of its posts and every post of every
 * member live, in cursor order with no gap, and nothing stalls.
 *
 * <p>{@value #DEFAULT_RUNS} runs in the default build, each on a new group and new connections;
 * {@code -Dbusygroup.runs=N} runs more (the loop in README.md).
 */
class BusyGroupIT extends SharedServerTest {

  private static final int DEFAULT_RUNS = 5;
  private static final int RUNS = Integer.getInteger("busygroup.runs", DEFAULT_RUNS);
  private static final int MEMBERS = 3;
  private static final int POSTS = 100;
  /** Longer than the test client's read timeout (10 s of silence counts as a stall). */
  private static final long STALL_SECONDS = 15;

  @Test
  void everyMemberGetsEveryAnswerAndEveryPostLive() throws Exception {
    ExecutorService threads = Executors.newCachedThreadPool();
    try {
      for (int run = 1; run <= RUNS; run++) {
        oneRun(run, threads);
      }
    } finally {
      threads.shutdownNow();
    }
  }

  private void oneRun(int run, ExecutorService threads) throws Exception {
    List<TestUser> members = new ArrayList<>();
    for (int i = 0; i < MEMBERS; i++) {
      members.add(TestUser.register(server.port(), "busy"));
    }
    String group = UUID.randomUUID().toString();
    assertAck(members.get(0).send(event("group_created", group, JsonObject.builder()
        .put("name", "busy").put("members", JsonArray.of()).put("policy", "open").build())));
    for (TestUser member : members.subList(1, MEMBERS)) {
      assertAck(member.send(event("joined", group, JsonObject.empty())));
    }
    List<Long> cursors = new ArrayList<>();
    for (TestUser member : members) {
      List<JsonNode> backlog = member.syncAll(0);
      JsonNode synced = backlog.get(backlog.size() - 1);
      assertEquals("synced", synced.path("type").asText(), synced.toString());
      cursors.add(synced.path("cursor").asLong());
    }

    // Signed beforehand, so that the posts leave as one burst per connection.
    List<List<String>> posts = new ArrayList<>();
    for (TestUser member : members) {
      List<String> lines = new ArrayList<>();
      for (int i = 0; i < POSTS; i++) {
        lines.add(member.key().frame(event("text", group,
            JsonObject.builder().put("text", "run " + run + " post " + i).build())));
      }
      posts.add(lines);
    }
    List<Future<?>> writers = new ArrayList<>();
    List<Future<Received>> readers = new ArrayList<>();
    for (int m = 0; m < MEMBERS; m++) {
      TestUser member = members.get(m);
      List<String> lines = posts.get(m);
      long since = cursors.get(m);
      readers.add(threads.submit(() -> receive(member, since)));
      writers.add(threads.submit((Callable<Void>) () -> {
        for (String line : lines) {
          member.client().send(line);
        }
        return null;
      }));
    }
    for (Future<?> writer : writers) {
      writer.get(STALL_SECONDS, TimeUnit.SECONDS);
    }
    Set<String> everyPost = new HashSet<>();
    for (int m = 0; m < MEMBERS; m++) {
      Received received;
      try {
        received = readers.get(m).get(POSTS * MEMBERS / 10 + 2 * STALL_SECONDS, TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        fail("run " + run + ": member " + m + " reader did not finish\n" + threadDump());
        return;
      }
      if (received.stalled != null) {
        fail("run " + run + ": connection of member " + m + " (" + members.get(m).address() + ") stalled: "
            + received.stalled + "\n" + threadDump());
      }
      assertEquals(POSTS, received.acks, "run " + run + ": acks on member " + m);
      if (everyPost.isEmpty()) {
        everyPost.addAll(received.delivered);
      }
      assertEquals(POSTS * MEMBERS, received.delivered.size(), "run " + run + ": deliveries to member " + m);
      assertEquals(everyPost, received.delivered, "run " + run + ": member " + m + " got other posts");
    }
    for (TestUser member : members) {
      member.client().close();
    }
  }

  /** What one connection received: its acks and the ids delivered to it, or why it stopped. */
  private record Received(int acks, Set<String> delivered, String stalled) {}

  /**
   * Reads until this connection has the answer to each of its posts and every post delivered live;
   * checks that deliveries come in cursor order with no gap.
   */
  private static Received receive(TestUser member, long since) {
    int acks = 0;
    Set<String> delivered = new HashSet<>();
    long cursor = since;
    while (acks < POSTS || delivered.size() < POSTS * MEMBERS) {
      JsonNode frame;
      try {
        frame = member.client().read(); // fails after the client's read timeout
      } catch (Exception e) {
        return new Received(acks, delivered, e + " after " + acks + " acks and " + delivered.size() + " deliveries");
      }
      switch (frame.path("type").asText()) {
        case "ack" -> acks++;
        case "deliver" -> {
          long next = frame.path("cursor").asLong();
          if (next != cursor + 1) {
            return new Received(acks, delivered, "cursor " + next + " after " + cursor + ": " + frame);
          }
          cursor = next;
          if (!delivered.add(frame.path("id").asText())) {
            return new Received(acks, delivered, "delivered twice: " + frame);
          }
        }
        default -> {
          return new Received(acks, delivered, "unexpected frame " + frame);
        }
      }
    }
    return new Received(acks, delivered, null);
  }

  private static JsonObject event(String type, String group, JsonObject body) {
    return JsonObject.builder().put("type", type).put("to", JsonArray.of()).put("group_id", group)
        .put("body", body).put("ts", now()).build();
  }

  private static String threadDump() {
    StringBuilder dump = new StringBuilder("thread dump:\n");
    for (ThreadInfo info : ManagementFactory.getThreadMXBean().dumpAllThreads(true, true)) {
      dump.append(info);
    }
    return dump.toString();
  }
}
