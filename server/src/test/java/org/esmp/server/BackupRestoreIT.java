package org.esmp.server;

import static org.esmp.server.testing.Frames.assertAck;
import static org.esmp.server.testing.Frames.assertError;
import static org.esmp.server.testing.Frames.auth;
import static org.esmp.server.testing.Frames.authenticate;
import static org.esmp.server.testing.Frames.now;
import static org.esmp.server.testing.Frames.syncAll;
import static org.esmp.server.testing.Frames.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;
import org.esmp.server.federation.ServerKey;
import org.esmp.server.testing.AdminRun;
import org.esmp.server.testing.ClusterDatabase;
import org.esmp.server.testing.TestClient;
import org.esmp.server.testing.TestIdentity;
import org.esmp.server.testing.TestServers;
import org.esmp.server.testing.TestUser;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * The online backup, end to end, against real servers: {@code esmp-admin backup} taken while
 * several connections send direct messages and group posts, restored with {@code esmp-admin
 * restore} into a new data directory, and a second server started there. It has the same users and
 * keys, the same groups, and every message acknowledged before the backup started, at the same
 * cursors and seqs; and nothing that the first server does not have.
 */
class BackupRestoreIT {

  private static final int SENDERS = 4;
  private static final int RECIPIENTS = 3;

  @TempDir Path root;
  private final ExecutorService pool = Executors.newFixedThreadPool(SENDERS);

  @AfterEach
  void stop() {
    pool.shutdownNow();
  }

  /** A message acknowledged by the first server: its id, and the seq it got if it was a group post. */
  private record Acked(String id, long seq) {}

  @Test
  @DisabledIfSystemProperty(named = "esmp.it.storage", matches = "postgres", disabledReason = "storage-postgres "
      + "refuses esmp-admin backup (the database is backed up with PostgreSQL's tools), as aServerOnPostgresqlRefusesTheBackupNamingPostgresqlsTools checks")
  void aBackupTakenUnderLoadRestoresUsersMailboxesAndGroupsWithEveryMessageAckedBeforeIt() throws Exception {
    Path dataA = root.resolve("a");
    Path backup = root.resolve("backup");
    Path dataB = root.resolve("b");
    String group = UUID.randomUUID().toString();

    List<TestUser> senders = new ArrayList<>();
    List<TestUser> recipients = new ArrayList<>();
    TestIdentity idleKey = TestIdentity.random();
    ConcurrentLinkedQueue<Acked> acked = new ConcurrentLinkedQueue<>();
    Set<Acked> ackedBefore;
    Map<String, Map<String, Long>> cursorsOnA = new HashMap<>();
    Map<Long, String> threadOnA;
    List<String> usersOnA;

    try (EsmpServer a = TestServers.start(dataA)) {
      for (int i = 0; i < SENDERS; i++) {
        senders.add(TestUser.register(a.port(), "sender"));
      }
      for (int i = 0; i < RECIPIENTS; i++) {
        recipients.add(TestUser.register(a.port(), "recipient"));
      }
      List<String> members = new ArrayList<>();
      senders.stream().skip(1).forEach(s -> members.add(s.address()));
      members.add(recipients.get(0).address());
      assertAck(senders.get(0).send(groupMessage("group_created", group, JsonObject.builder().put("name", "load")
          .put("members", JsonArray.ofStrings(members)).build())));
      try (TestClient idle = new TestClient(a.port())) {
        authenticate(idle, idleKey, "idle#example.com");
      }
      assertEquals(0, AdminRun.on(dataA, "users", "disable", "idle#example.com").code());

      // The load: each sender on its own connection, direct messages and group posts in turn.
      AtomicBoolean running = new AtomicBoolean(true);
      AtomicInteger count = new AtomicInteger();
      List<Future<?>> load = new ArrayList<>();
      for (int s = 0; s < SENDERS; s++) {
        TestUser sender = senders.get(s);
        load.add(pool.submit(() -> {
          for (int n = 0; running.get(); n++) {
            JsonNode ack;
            if (n % 2 == 0) {
              TestUser to = recipients.get(n / 2 % RECIPIENTS);
              ack = assertAck(sender.send(text(sender.address() + " " + n, to.address())));
            } else {
              ack = assertAck(sender.send(post(group, sender.address() + " " + n)));
            }
            acked.add(new Acked(ack.path("re").asText(), ack.path("seq").asLong(0)));
            count.incrementAndGet();
          }
          return null;
        }));
      }
      waitFor(() -> count.get() >= 200, load);
      ackedBefore = Set.copyOf(acked); // acked before the backup call starts

      AdminRun backedUp = AdminRun.on(dataA, "backup", backup.toString());
      assertEquals(0, backedUp.code(), backedUp.toString());
      assertTrue(backedUp.out().startsWith("backup written to " + backup.toAbsolutePath()), backedUp.out());

      int after = count.get();
      waitFor(() -> count.get() >= after + 100, load); // the load goes on past the backup
      running.set(false);
      for (Future<?> sender : load) {
        sender.get(60, TimeUnit.SECONDS);
      }

      // What the first server holds in the end, for comparison.
      for (TestUser user : concat(senders, recipients)) {
        cursorsOnA.put(user.address(), cursors(syncAll(user.client(), user.key(), 0)));
      }
      threadOnA = thread(senders.get(0), group);
      usersOnA = AdminRun.on(dataA, "users", "list").lines();
    }

    try (Stream<Path> files = Files.list(backup)) {
      assertEquals(Set.of("manifest.json", "storage-mapdb", ServerKey.FILE, "federation"),
          Set.copyOf(files.map(f -> f.getFileName().toString()).toList()),
          "no lock, no plugin copies, no socket: only the store, the server's key, the federation plugin's file "
              + "(its name in outbox leases) and the manifest");
    }
    AdminRun restored = AdminRun.run("restore", backup.toString(), "--data-dir", dataB.toString());
    assertEquals(0, restored.code(), restored.toString());

    try (EsmpServer b = TestServers.start(dataB)) {
      assertEquals(ServerKey.read(dataA.resolve(ServerKey.FILE)).publicKeyBase64(), b.serverKey(),
          "the restored server is the same server to its peers");
      assertEquals(usersOnA, AdminRun.on(dataB, "users", "list").lines(), "the same users, keys and states");

      Set<String> allAckedIds = new HashSet<>();
      for (TestUser user : concat(senders, recipients)) {
        TestClient client = new TestClient(b.port());
        assertFalse(authenticate(client, user.key(), user.address()).path("registered").asBoolean(),
            user.address() + " exists, with its key");
        Map<String, Long> onB = cursors(syncAll(client, user.key(), 0));
        Map<String, Long> onA = cursorsOnA.get(user.address());
        onB.forEach((id, cursor) -> assertEquals(onA.get(id), cursor,
            "every entry restored is one the first server has, at the same cursor: " + id));
        allAckedIds.addAll(onA.keySet());
        client.close();
      }
      Set<String> inMailboxes = new HashSet<>();
      for (TestUser user : concat(senders, recipients)) {
        try (TestClient client = new TestClient(b.port())) {
          authenticate(client, user.key(), user.address());
          inMailboxes.addAll(cursors(syncAll(client, user.key(), 0)).keySet());
        }
      }
      for (Acked message : ackedBefore) {
        assertTrue(inMailboxes.contains(message.id()), "acked before the backup, restored: " + message);
      }

      TestUser member;
      try (TestClient client = new TestClient(b.port())) {
        authenticate(client, senders.get(1).key(), senders.get(1).address());
        member = new TestUser(senders.get(1).address(), senders.get(1).key(), client);
        JsonNode info = member.send(groupMessage("group_info", group, JsonObject.empty()));
        List<String> restoredMembers = new ArrayList<>();
        info.path("members").forEach(m -> restoredMembers.add(m.asText()));
        List<String> expected = new ArrayList<>();
        expected.add(senders.get(0).address());
        expected.addAll(members(senders, recipients));
        assertEquals(expected, restoredMembers, info.toString());
        Map<Long, String> threadOnB = thread(member, group);
        assertEquals(info.path("seq").asLong(), threadOnB.size(), "a gapless thread, 1 to seq");
        threadOnB.forEach((seq, id) -> assertEquals(threadOnA.get(seq), id, "the same entry at seq " + seq));
        for (Acked message : ackedBefore) {
          if (message.seq() > 0) {
            assertEquals(message.id(), threadOnB.get(message.seq()), "a post acked before the backup, at its seq");
          }
        }
      }

      try (TestClient idle = new TestClient(b.port())) {
        assertError(idle.call(idleKey.frame(auth(idle, "idle#example.com"))), "forbidden");
      }
      assertTrue(allAckedIds.containsAll(inMailboxes));
    }
  }

  @Test
  @DisabledIfSystemProperty(named = "esmp.it.storage", matches = "postgres", disabledReason = "storage-postgres "
      + "refuses esmp-admin backup; this test damages storage-mapdb's files in a backup")
  void restoreRefusesADamagedOrPartialBackupAndATargetInUseOrNotEmpty() throws Exception {
    Path data = root.resolve("data");
    Path backup = root.resolve("backup");
    try (EsmpServer server = TestServers.start(data); TestClient c = new TestClient(server.port())) {
      TestIdentity key = TestIdentity.random();
      authenticate(c, key, "alice#example.com");
      assertAck(c.call(key.frame(text("to myself", "alice#example.com"))));

      Files.createDirectories(root.resolve("full"));
      Files.writeString(root.resolve("full/something"), "x");
      refused(AdminRun.on(data, "backup", root.resolve("full").toString()), "is not empty");
      refused(AdminRun.on(data, "backup", data.resolve("inside").toString()), "is inside the data directory");
      assertEquals(0, AdminRun.on(data, "backup", backup.toString()).code());

      refused(AdminRun.run("restore", backup.toString(), "--data-dir", data.toString()), "is not empty");
    }
    Path full = root.resolve("full");
    refused(AdminRun.run("restore", backup.toString(), "--data-dir", full.toString()), "is not empty");
    assertEquals(2, AdminRun.run("restore", backup.toString()).code(), "--data-dir NEW_DIR is required");

    Path damaged = copyOf(backup, "damaged");
    Path store = damaged.resolve("storage-mapdb/storage.db");
    try (FileChannel channel = FileChannel.open(store, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer one = ByteBuffer.allocate(1);
      channel.read(one, channel.size() / 2);
      one.put(0, (byte) (one.get(0) ^ 0x01)).rewind();
      channel.write(one, channel.size() / 2);
    }
    Path target = root.resolve("restored");
    refused(AdminRun.run("restore", damaged.toString(), "--data-dir", target.toString()),
        "is damaged: storage-mapdb/storage.db is not the file the backup wrote");
    assertFalse(Files.exists(target), "nothing written");

    Path partial = copyOf(backup, "partial");
    Files.delete(partial.resolve("manifest.json"));
    refused(AdminRun.run("restore", partial.toString(), "--data-dir", target.toString()), "is not a complete backup");

    Path missing = copyOf(backup, "missing");
    Files.delete(missing.resolve("storage-mapdb/storage.db"));
    refused(AdminRun.run("restore", missing.toString(), "--data-dir", target.toString()),
        "is partial: storage-mapdb/storage.db, listed in its manifest, is missing");

    Path extra = copyOf(backup, "extra");
    Files.writeString(extra.resolve("storage-mapdb/storage.db.journal.7"), "not from the backup");
    refused(AdminRun.run("restore", extra.toString(), "--data-dir", target.toString()), "which its manifest does not list");
    assertFalse(Files.exists(target), "nothing written");

    Files.createDirectory(target); // an empty directory is a fine target
    assertEquals(0, AdminRun.run("restore", backup.toString(), "--data-dir", target.toString()).code());
    try (EsmpServer server = TestServers.start(target); TestClient c = new TestClient(server.port())) {
      TestIdentity stranger = TestIdentity.random();
      assertError(c.call(stranger.frame(auth(c, "alice#example.com"))), "forbidden"); // bound to alice's key
    }
  }

  /**
   * On storage-postgres (in every build, whatever the tests' storage), {@code esmp-admin backup}
   * is refused with one line naming PostgreSQL's tools, and writes nothing; the server serves on.
   */
  @Test
  void aServerOnPostgresqlRefusesTheBackupNamingPostgresqlsTools() throws Exception {
    Path data = root.resolve("data");
    Path backup = root.resolve("backup");
    try (EsmpServer server = EsmpServer.start(ClusterDatabase.onPostgres(TestServers.config(data), data).build());
        TestClient c = new TestClient(server.port())) {
      TestIdentity key = TestIdentity.random();
      authenticate(c, key, "alice#example.com");
      assertAck(c.call(key.frame(text("before", "alice#example.com"))));

      AdminRun run = AdminRun.on(data, "backup", backup.toString());
      refused(run, "pg_basebackup");
      assertEquals(1, run.err().lines().count(), run.toString());
      try (Stream<Path> written = Files.exists(backup) ? Files.list(backup) : Stream.empty()) {
        assertEquals(List.of(), written.toList(), "nothing written to the backup directory");
      }
      assertAck(c.call(key.frame(text("after", "alice#example.com"))));
    }
  }

  private static void refused(AdminRun run, String says) {
    assertEquals(1, run.code(), run.toString());
    assertTrue(run.err().contains(says), run.toString());
  }

  /** A copy of the backup directory {@code backup}, to damage. */
  private Path copyOf(Path backup, String name) throws Exception {
    Path copy = root.resolve(name);
    try (Stream<Path> walk = Files.walk(backup)) {
      for (Path path : walk.toList()) {
        Path to = copy.resolve(backup.relativize(path).toString());
        if (Files.isDirectory(path)) {
          Files.createDirectories(to);
        } else {
          Files.copy(path, to);
        }
      }
    }
    return copy;
  }

  /** Waits until {@code done}, failing at once if a sender failed. */
  private static void waitFor(java.util.function.BooleanSupplier done, List<Future<?>> load) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (!done.getAsBoolean()) {
      for (Future<?> sender : load) {
        if (sender.isDone()) {
          sender.get(); // rethrows its failure
        }
      }
      assertTrue(System.nanoTime() < deadline, "the load did not get that far");
      Thread.sleep(10);
    }
  }

  /** The deliveries of a sync, by id, with their cursors. */
  private static Map<String, Long> cursors(List<JsonNode> frames) {
    assertEquals("synced", frames.get(frames.size() - 1).path("type").asText());
    Map<String, Long> cursors = new HashMap<>();
    long last = 0;
    for (JsonNode deliver : frames.subList(0, frames.size() - 1)) {
      long cursor = deliver.path("cursor").asLong();
      assertTrue(cursor > last, "cursors rise");
      last = cursor;
      cursors.put(deliver.path("id").asText(), cursor);
    }
    return cursors;
  }

  /** The whole thread of {@code group} as {@code member} reads it with history: seq to message id. */
  private static Map<Long, String> thread(TestUser member, String group) throws Exception {
    Map<Long, String> thread = new TreeMap<>();
    Long before = null;
    while (true) {
      JsonObject.Builder body = JsonObject.builder().put("limit", 500);
      if (before != null) {
        body.put("before", before);
      }
      JsonNode page = member.send(groupMessage("history", group, body.build()));
      assertEquals("history", page.path("type").asText(), page.toString());
      for (JsonNode entry : page.path("entries")) {
        thread.put(entry.path("seq").asLong(), entry.path("id").asText());
        before = entry.path("seq").asLong();
      }
      if (!page.path("more").asBoolean()) {
        return thread;
      }
    }
  }

  private static List<String> members(List<TestUser> senders, List<TestUser> recipients) {
    List<String> members = new ArrayList<>();
    senders.stream().skip(1).forEach(s -> members.add(s.address()));
    members.add(recipients.get(0).address());
    return members;
  }

  private static List<TestUser> concat(List<TestUser> first, List<TestUser> second) {
    List<TestUser> all = new ArrayList<>(first);
    all.addAll(second);
    return all;
  }

  private static JsonObject groupMessage(String type, String group, JsonObject body) {
    return JsonObject.builder().put("type", type).put("to", JsonArray.of()).put("group_id", group)
        .put("body", body).put("ts", now()).build();
  }

  private static JsonObject post(String group, String text) {
    return groupMessage("text", group, JsonObject.builder().put("text", text).build());
  }
}
