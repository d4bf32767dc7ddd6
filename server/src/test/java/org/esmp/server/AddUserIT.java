package org.esmp.server;

import static org.esmp.server.testing.Frames.assertAck;
import static org.esmp.server.testing.Frames.assertError;
import static org.esmp.server.testing.Frames.auth;
import static org.esmp.server.testing.Frames.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.esmp.server.config.ConfigFile;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.testing.AdminRun;
import org.esmp.server.testing.ClusterDatabase;
import org.esmp.server.testing.TestClient;
import org.esmp.server.testing.TestIdentity;
import org.esmp.server.testing.TestServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** With registration closed, only addresses an operator added with {@code add-user} can auth. */
class AddUserIT {

  @TempDir Path data;

  /** {@code esmp-server add-user ARGS} on {@link #data}, on the tests' storage. */
  private int addUser(String... args) {
    List<String> all = new ArrayList<>(List.of("--domain", "example.com", "--data-dir", data.toString(),
        "--plugins-dir", TestServers.pluginsDir().toString()));
    all.addAll(ClusterDatabase.flags(data));
    all.add("add-user");
    all.addAll(List.of(args));
    return Main.run(all.toArray(String[]::new));
  }

  @Test
  void addsUsersAnOperatorNamesWhileRegistrationIsClosed() throws Exception {
    TestIdentity alice = TestIdentity.random();
    TestIdentity alicePhone = TestIdentity.random();
    assertEquals(0, addUser("alice#example.com", alice.publicKey()));
    assertEquals(0, addUser("alice#example.com", alicePhone.publicKey()), "a second key for the same address");
    assertEquals(2, addUser("alice#other.example", TestIdentity.random().publicKey()), "not a served domain");
    assertEquals(2, addUser("bob#example.com", "not-a-key"));
    assertEquals(1, addUser("bob#example.com", alice.publicKey()), "the key belongs to alice already");

    ServerConfig config = TestServers.config(data).registration(ServerConfig.Registration.CLOSED).build();
    try (EsmpServer server = EsmpServer.start(config);
        TestClient a = new TestClient(server.port());
        TestClient b = new TestClient(server.port())) {
      assertFalse(assertAck(a.call(alice.frame(auth(a, "alice#example.com")))).path("registered").asBoolean());
      assertAck(b.call(alicePhone.frame(auth(b, "alice#example.com"))));
      assertError(b.call(TestIdentity.random().frame(auth(b, "bob#example.com"))), "forbidden");
      assertAck(a.call(alice.frame(text("note to self", "alice#example.com"))));
      assertEquals(1, addUser("bob#example.com", TestIdentity.random().publicKey()),
          "refused while a server holds the data directory");
    }
    assertEquals(0, addUser("bob#example.com", TestIdentity.random().publicKey()), "and accepted once it stopped");
  }

  @Test
  void refusesAnAddressRemovedWithEsmpAdmin() throws Exception {
    TestIdentity dave = TestIdentity.random();
    assertEquals(0, addUser("dave#example.com", dave.publicKey()));
    try (EsmpServer server = EsmpServer.start(TestServers.config(data).build())) {
      assertEquals(0, AdminRun.on(data, "users", "remove", "dave#example.com").code());
    }
    assertEquals(1, addUser("dave#example.com", TestIdentity.random().publicKey()), "removed for good");
    assertEquals(0, addUser("erin#example.com", dave.publicKey()), "its old key is free");
  }

  @Test
  void takesTheServersFlagsBeforeOrAfterItsArguments() {
    String key = TestIdentity.random().publicKey();
    List<String> storage = ClusterDatabase.flags(data);
    List<String> first = new ArrayList<>(List.of("add-user", "carol#example.com", key, "--domain", "example.com",
        "--data-dir", data.toString(), "--plugins-dir", TestServers.pluginsDir().toString()));
    first.addAll(storage);
    assertEquals(0, Main.run(first.toArray(String[]::new)));
    List<String> second = new ArrayList<>(List.of("add-user"));
    second.addAll(storage);
    second.addAll(List.of("--data-dir", data.toString(), "dave#example.com",
        TestIdentity.random().publicKey(), "--plugins-dir", TestServers.pluginsDir().toString(), "--domain",
        "example.com"));
    assertEquals(0, Main.run(second.toArray(String[]::new)));
    assertEquals(1, addUser("erin#example.com", key), "the key was bound to carol by the first call");
  }

  @Test
  void findsTheServersDataDirectoryInTheInstallationDirectoryWhereverItRuns() throws Exception {
    // bin/esmp-server sets esmp.home: without --data-dir, add-user uses the server's default, HOME/data.
    Path home = data.resolve("home");
    TestIdentity frank = TestIdentity.random();
    List<String> args = new ArrayList<>(List.of("add-user", "frank#example.com", frank.publicKey(),
        "--domain", "example.com", "--plugins-dir", TestServers.pluginsDir().toString()));
    args.addAll(ClusterDatabase.flags(home.resolve("data")));
    System.setProperty(ConfigFile.HOME_PROPERTY, home.toString());
    try {
      assertEquals(0, Main.run(args.toArray(String[]::new)));
    } finally {
      System.clearProperty(ConfigFile.HOME_PROPERTY);
    }
    assertTrue(Files.isDirectory(home.resolve("data")), "no data directory " + home.resolve("data"));
    assertFalse(Files.exists(Path.of("data")), "a data directory in the current directory");
    // The server on HOME/data knows frank.
    ServerConfig config = TestServers.config(home.resolve("data")).registration(ServerConfig.Registration.CLOSED).build();
    try (EsmpServer server = EsmpServer.start(config); TestClient c = new TestClient(server.port())) {
      assertFalse(assertAck(c.call(frank.frame(auth(c, "frank#example.com")))).path("registered").asBoolean());
    }
  }
}
