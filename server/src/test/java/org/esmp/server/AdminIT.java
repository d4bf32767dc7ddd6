package org.esmp.server;

import static org.esmp.server.testing.Frames.assertAck;
import static org.esmp.server.testing.Frames.assertError;
import static org.esmp.server.testing.Frames.auth;
import static org.esmp.server.testing.Frames.authenticate;
import static org.esmp.server.testing.Frames.mailboxIds;
import static org.esmp.server.testing.Frames.now;
import static org.esmp.server.testing.Frames.sync;
import static org.esmp.server.testing.Frames.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.UUID;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.testing.AdminRun;
import org.esmp.server.testing.ClusterDatabase;
import org.esmp.server.testing.TestClient;
import org.esmp.server.testing.TestIdentity;
import org.esmp.server.testing.TestServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code esmp-admin} against a real server, through its real administration socket: each command,
 * and the refusals (an unknown address, a disabled one refused on auth and on send, no server).
 */
class AdminIT {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path data;

  private EsmpServer start(ServerConfig.Registration registration) throws Exception {
    return EsmpServer.start(TestServers.config(data).registration(registration).build());
  }

  private AdminRun admin(String... args) {
    return AdminRun.on(data, args);
  }

  private static AdminRun ok(AdminRun run) {
    assertEquals(0, run.code(), run.toString());
    return run;
  }

  private static void failed(AdminRun run, String says) {
    assertEquals(1, run.code(), run.toString());
    assertTrue(run.err().startsWith("esmp-admin: ") && run.err().contains(says), run.toString());
  }

  @Test
  void theSocketIsTheOwnersAloneAndGoesWithTheServer() throws Exception {
    Path socket;
    try (EsmpServer server = start(ServerConfig.Registration.OPEN)) {
      socket = server.adminSocket().orElseThrow();
      assertEquals(data.resolve("admin.sock").toAbsolutePath(), socket);
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
      ok(admin("plugins", "list"));
    }
    assertFalse(Files.exists(socket), "removed when the server stops");
    failed(admin("users", "list"), "no server is running on data directory " + data.toAbsolutePath());
  }

  @Test
  void addsUsersWithKeysWhileRegistrationIsClosedAndListsThem() throws Exception {
    TestIdentity alice = TestIdentity.random();
    TestIdentity alicePhone = TestIdentity.random();
    TestIdentity bob = TestIdentity.random();
    try (EsmpServer server = start(ServerConfig.Registration.CLOSED);
        TestClient a = new TestClient(server.port());
        TestClient b = new TestClient(server.port())) {
      assertEquals(List.of("added alice#example.com"), ok(admin("users", "add", "alice#example.com", "--key",
          alice.publicKey())).lines());
      assertEquals(List.of("added a key to alice#example.com"), ok(admin("users", "add", "alice#example.com",
          "--key", alicePhone.publicKey())).lines());
      assertEquals(List.of("alice#example.com has that key already"), ok(admin("users", "add", "alice#example.com",
          "--key", alice.publicKey())).lines());
      ok(admin("users", "add", "admin#example.com", "--key", bob.publicKey())); // a reserved name: the operator's act
      failed(admin("users", "add", "carol#example.com", "--key", bob.publicKey()), "that key is bound to admin#example.com");
      failed(admin("users", "add", "carol#other.example", "--key", TestIdentity.random().publicKey()),
          "this server does not serve other.example");
      failed(admin("users", "add", "carol#example.com", "--key", "bm90IGEga2V5"), "base64 of 32 bytes");
      assertEquals(2, admin("users", "add", "carol#example.com").code(), "--key is required: a usage error");

      assertFalse(assertAck(a.call(alice.frame(auth(a, "alice#example.com")))).path("registered").asBoolean());
      assertAck(b.call(bob.frame(auth(b, "admin#example.com"))));

      assertEquals(List.of(
          String.format("%-40s %-8s %s", "admin#example.com", "active", "1 key"),
          String.format("%-40s %-8s %s", "alice#example.com", "active", "2 keys")), ok(admin("users", "list")).lines());
      List<String> json = ok(admin("users", "list", "--json")).lines();
      JsonNode first = JSON.readTree(json.get(1));
      assertEquals("alice#example.com", first.path("address").asText());
      assertEquals(List.of(alice.publicKey(), alicePhone.publicKey()),
          List.of(first.path("keys").get(0).asText(), first.path("keys").get(1).asText()));
    }
  }

  /**
   * A disabled address can neither auth nor send ({@code forbidden}); its connections are closed,
   * its mailbox kept and still delivered to; enabling it undoes that.
   */
  @Test
  void aDisabledAddressIsRefusedOnAuthAndSendUntilEnabled() throws Exception {
    TestIdentity alice = TestIdentity.random();
    TestIdentity carol = TestIdentity.random();
    try (EsmpServer server = start(ServerConfig.Registration.OPEN);
        TestClient a = new TestClient(server.port());
        TestClient c = new TestClient(server.port())) {
      authenticate(a, alice, "alice#example.com");
      authenticate(c, carol, "carol#example.com");
      String before = assertAck(a.call(alice.frame(text("before", "carol#example.com")))).path("re").asText();

      assertEquals(List.of("disabled carol#example.com, 1 connection closed"),
          ok(admin("users", "disable", "carol#example.com")).lines());
      assertTrue(c.closedByServer(), "its authenticated connection is closed");
      assertEquals(List.of("carol#example.com is disabled already"),
          ok(admin("users", "disable", "carol#example.com")).lines());
      assertTrue(ok(admin("users", "list")).out().contains(String.format("%-40s %-8s %s", "carol#example.com", "disabled",
          "1 key  (disabled ")));

      try (TestClient again = new TestClient(server.port())) {
        JsonNode refused = again.call(carol.frame(auth(again, "carol#example.com")));
        assertError(refused, "forbidden");
        assertTrue(refused.path("message").asText().contains("carol#example.com is disabled"), refused.toString());
        assertError(again.call(carol.frame(text("from a disabled address", "alice#example.com"))), "forbidden");
        assertError(again.call(carol.frame(sync(0))), "forbidden");
      }
      String during = assertAck(a.call(alice.frame(text("while disabled", "carol#example.com")))).path("re").asText();

      assertEquals(List.of("enabled carol#example.com"), ok(admin("users", "enable", "carol#example.com")).lines());
      assertEquals(List.of("carol#example.com is not disabled"), ok(admin("users", "enable", "carol#example.com")).lines());
      try (TestClient back = new TestClient(server.port())) {
        authenticate(back, carol, "carol#example.com");
        assertEquals(List.of(before, during), mailboxIds(back, carol), "the mailbox was kept, and delivered to");
        assertAck(back.call(carol.frame(text("back", "alice#example.com"))));
      }
    }
  }

  /**
   * A removed address loses its keys and stays reserved: its old key cannot auth as it, no one can
   * register it, messages to it are refused; its key is free for another address.
   */
  @Test
  void aRemovedAddressLosesItsKeysAndIsNeverRegisteredAgain() throws Exception {
    TestIdentity alice = TestIdentity.random();
    TestIdentity dave = TestIdentity.random();
    try (EsmpServer server = start(ServerConfig.Registration.OPEN);
        TestClient a = new TestClient(server.port());
        TestClient d = new TestClient(server.port())) {
      authenticate(a, alice, "alice#example.com");
      authenticate(d, dave, "dave#example.com");
      assertAck(a.call(alice.frame(text("hello", "dave#example.com"))));

      assertEquals(List.of("removed dave#example.com (1 key unbound, 1 connection closed)"),
          ok(admin("users", "remove", "dave#example.com")).lines());
      assertTrue(d.closedByServer());
      assertEquals(List.of("dave#example.com was removed already"), ok(admin("users", "remove", "dave#example.com")).lines());
      assertTrue(ok(admin("users", "list", "--removed")).out().startsWith("dave#example.com  removed "));
      assertFalse(ok(admin("users", "list")).out().contains("dave#example.com"));
      failed(admin("users", "enable", "dave#example.com"), "dave#example.com was removed");
      failed(admin("users", "add", "dave#example.com", "--key", TestIdentity.random().publicKey()),
          "a removed address is not given out again");

      try (TestClient again = new TestClient(server.port())) {
        assertError(again.call(dave.frame(auth(again, "dave#example.com"))), "forbidden");
        assertError(again.call(TestIdentity.random().frame(auth(again, "dave#example.com"))), "forbidden");
        assertError(again.call(dave.frame(text("still here?", "alice#example.com"))), "unknown_sender");
      }
      assertError(a.call(alice.frame(text("are you there?", "dave#example.com"))), "unknown_recipient");
      try (TestClient reused = new TestClient(server.port())) {
        assertTrue(authenticate(reused, dave, "dave2#example.com").path("registered").asBoolean(),
            "the removed address's key is free for another address");
      }
    }
  }

  @Test
  void refusesUnknownAndMalformedAddresses() throws Exception {
    try (EsmpServer server = start(ServerConfig.Registration.OPEN)) {
      failed(admin("users", "disable", "nobody#example.com"), "no address nobody#example.com on this server");
      failed(admin("users", "remove", "nobody#example.com"), "no address nobody#example.com on this server");
      failed(admin("users", "enable", "nobody#example.com"), "no address nobody#example.com on this server");
      failed(admin("users", "disable", "Not An Address"), "is not an address");
      assertEquals(2, admin("users").code(), "a group of commands alone is a usage error");
      assertEquals(2, admin("users", "frobnicate").code());
      AdminRun help = admin("users", "disable", "--help");
      assertEquals(0, help.code());
      assertTrue(help.out().contains("Usage: esmp-admin users disable"), help.out());
    }
  }

  @Test
  void listsGroupsAndTellsOneGroupsMembersAdminsAndEntries() throws Exception {
    TestIdentity ann = TestIdentity.random();
    TestIdentity ben = TestIdentity.random();
    String group = UUID.randomUUID().toString();
    try (EsmpServer server = start(ServerConfig.Registration.OPEN);
        TestClient a = new TestClient(server.port());
        TestClient b = new TestClient(server.port())) {
      authenticate(a, ann, "ann#example.com");
      authenticate(b, ben, "ben#example.com");
      assertAck(a.call(ann.frame(groupEvent("group_created", group, JsonObject.builder().put("name", "team")
          .put("members", JsonArray.ofStrings(List.of("ben#example.com"))).build()))));
      assertAck(b.call(ben.frame(post(group, "hi"))));
      assertAck(a.call(ann.frame(post(group, "hello"))));

      List<String> listed = ok(admin("groups", "list")).lines();
      assertEquals(1, listed.size(), listed.toString());
      assertTrue(listed.get(0).startsWith(group) && listed.get(0).contains("2 members  seq 3  team"), listed.get(0));
      assertEquals(List.of(
          "group    " + group,
          "name     team",
          "policy   invite",
          "members  2: ann#example.com, ben#example.com",
          "admins   ann#example.com",
          "seq      3 (thread entries: posts and membership events)"), ok(admin("groups", "info", group)).lines());
      JsonNode info = JSON.readTree(ok(admin("groups", "info", group, "--json")).out());
      assertEquals(3, info.path("seq").asLong());
      failed(admin("groups", "info", "no-such-group"), "no group no-such-group on this server");
    }
  }

  @Test
  void listsThePluginJarsWithTheirState() throws Exception {
    try (EsmpServer server = start(ServerConfig.Registration.OPEN)) {
      // Both storages are installed; the tests' storage runs, the other is not started.
      String running = ClusterDatabase.storagePlugin();
      String other = running.equals("storage-mapdb") ? "storage-postgres" : "storage-mapdb";
      List<String> lines = ok(admin("plugins", "list")).lines();
      assertTrue(lines.stream().anyMatch(l -> l.startsWith(running + " ") && l.contains(" started ")
          && l.endsWith("(storage)")), lines.toString());
      for (String plugin : List.of("direct-delivery", "group-threads", "system-events")) {
        assertTrue(lines.stream().anyMatch(l -> l.startsWith(plugin + " ") && l.contains(" started ")), lines.toString());
      }
      for (String line : ok(admin("plugins", "list", "--json")).lines()) {
        JsonNode plugin = JSON.readTree(line);
        String expected = plugin.path("id").asText().equals(other) ? "other-storage" : "started";
        assertEquals(expected, plugin.path("state").asText(), line);
        assertTrue(plugin.path("jar").asText().endsWith(".jar"), line);
      }
      assertTrue(lines.stream().anyMatch(l -> l.startsWith(other + " ") && l.contains("other-storage")),
          lines.toString());
    }
  }

  /** A Unix socket's path has at most about 100 bytes: a server on a deeper directory serves without one. */
  @Test
  void aDataDirectoryTooDeepForASocketServesWithoutOneAndEsmpAdminSaysWhy() throws Exception {
    Path deep = data.resolve("d".repeat(60)).resolve("e".repeat(60));
    try (EsmpServer server = EsmpServer.start(TestServers.config(deep).build());
        TestClient c = new TestClient(server.port())) {
      assertTrue(server.adminSocket().isEmpty());
      authenticate(c, TestIdentity.random(), "alice#example.com");
      failed(AdminRun.on(deep, "users", "list"), "the path is too long for a Unix socket");
    }
  }

  @Test
  void saysSoWhenNoServerRunsOnTheDataDirectory(@TempDir Path empty) {
    AdminRun run = AdminRun.on(empty, "users", "list");
    failed(run, "no server is running on data directory " + empty.toAbsolutePath());
    assertEquals(1, run.err().lines().count(), "one line");
  }

  private static JsonObject groupEvent(String type, String group, JsonObject body) {
    return JsonObject.builder().put("type", type).put("to", JsonArray.of()).put("group_id", group)
        .put("body", body).put("ts", now()).build();
  }

  private static JsonObject post(String group, String text) {
    return JsonObject.builder().put("type", "text").put("to", JsonArray.of()).put("group_id", group)
        .put("body", JsonObject.builder().put("text", text).build()).put("ts", now()).build();
  }
}
