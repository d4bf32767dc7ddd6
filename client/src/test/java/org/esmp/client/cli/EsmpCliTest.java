package org.esmp.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.esmp.client.Identity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The CLI's own behaviour, in process: global options, exit codes and error lines. */
@Timeout(30)
class EsmpCliTest {

  @TempDir Path dir;

  @Test
  void badUsageIsExitCode2() {
    assertEquals(2, Cli.run("send", "--to", "Bob", "hi").code());
    assertEquals(2, Cli.run("frobnicate").code());
    assertEquals(2, Cli.run("--no-such-option", "register").code());
  }

  @Test
  void withoutACommandSaysSoAndShowsTheUsage() {
    Cli.Result r = Cli.run();
    assertEquals(2, r.code());
    assertEquals("", r.out());
    assertTrue(r.err().startsWith("which command? (see esmp --help)\nUsage: esmp [-hV] "), r.err());
  }

  @Test
  void helpListsTheCommandsInOrder() {
    Cli.Result r = Cli.run("--help");
    assertEquals(0, r.code());
    assertTrue(r.out().startsWith("Usage: esmp [-hV] [--tls] [--identity=FILE] [--server=HOST:PORT]\n"
        + "            [--tls-ca=FILE] [--tls-pin=SHA256] [COMMAND]\n"
        + "ESMP/1 command-line client: keys, messages, mailbox, groups.\n"), r.out());
    assertTrue(r.out().contains("""
        Commands:
          keygen    Create a new key for ADDRESS in the identity file (never overwrites
                      one).
          register  Register the identity's address with its key (on a server with open
                      registration), or check that it is registered.
          send      Send a text message (or, with --type and --body, any content type).
          listen    Print what arrives in the mailbox, from the saved cursor on, saving
                      the cursor as it goes.
          group     Groups: create, add, remove, leave, post, history, info.
          lookup    Print the public keys of ADDR.
          help      Show the help of a command, at any depth: esmp help group create.
        """), r.out());
  }

  @Test
  void everyCommandAtAnyDepthShowsItsHelpWithDashDashHelp() {
    for (String command : List.of("keygen", "register", "send", "listen", "lookup", "group", "group create",
        "group add", "group remove", "group leave", "group post", "group history", "group info")) {
      List<String> args = new ArrayList<>(List.of(command.split(" ")));
      args.add("--help");
      Cli.Result r = Cli.run(args.toArray(String[]::new));
      assertEquals(0, r.code(), command + ": " + r.err());
      assertTrue(r.out().startsWith("Usage: esmp " + command + " "), command + ": " + r.out());
      assertTrue(r.out().contains("-h, --help"), command + ": " + r.out());
    }
  }

  @Test
  void helpShowsTheCommandItsWordsName() {
    Cli.Result nested = Cli.run("help", "group", "create");
    assertEquals(0, nested.code(), nested.err());
    assertTrue(nested.out().startsWith("Usage: esmp group create "), nested.out());
    assertEquals(Cli.run("group", "create", "--help").out(), nested.out());
    assertTrue(Cli.run("help").out().startsWith("Usage: esmp [-hV] "));
    Cli.Result unknown = Cli.run("help", "group", "frob");
    assertEquals(2, unknown.code());
    assertTrue(unknown.err().startsWith("no command 'group frob' (see esmp --help)"), unknown.err());
  }

  @Test
  void versionNamesTheProtocol() {
    Cli.Result r = Cli.run("--version");
    assertEquals(0, r.code());
    assertTrue(r.out().matches("esmp \\S.*, ESMP/1\n"), r.out());
  }

  @Test
  void aServerThatIsNotHostColonPortIsAUsageError() throws IOException {
    Path id = dir.resolve("me.json");
    Identity.create(id, "alice#example.com");
    Cli.Result r = Cli.run("--server", "localhost:http", "--identity", id.toString(), "register");
    assertEquals(2, r.code());
    assertTrue(r.err().startsWith("--server: not HOST:PORT: localhost:http\n"), r.err());
  }

  @Test
  void noServerIsOneLineAndExitCode1() throws IOException {
    Path id = dir.resolve("me.json");
    Identity.create(id, "alice#example.com");
    int port;
    try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = closed.getLocalPort();
    }
    Cli.Result r = Cli.run("--server", "127.0.0.1:" + port, "--identity", id.toString(), "register");
    assertEquals(1, r.code());
    assertTrue(r.err().startsWith("esmp: cannot connect to 127.0.0.1:" + port + ": "), r.err());
    assertEquals(1, r.err().lines().count(), r.err());
  }

  @Test
  void badTlsOptionsAreUsageErrors() throws IOException {
    Path id = dir.resolve("me.json");
    Identity.create(id, "alice#example.com");
    Cli.Result shortPin = Cli.run("--tls-pin", "AB:CD", "--identity", id.toString(), "register");
    assertEquals(2, shortPin.code());
    assertTrue(shortPin.err().startsWith("--tls-pin: a SHA-256 fingerprint is 32 bytes of hex"), shortPin.err());
    Cli.Result both = Cli.run("--tls-pin", "00".repeat(32), "--tls-ca", id.toString(), "--identity", id.toString(),
        "register");
    assertEquals(2, both.code());
    assertTrue(both.err().startsWith("--tls-ca and --tls-pin: one or the other"), both.err());
  }

  @Test
  void tlsToAPlaintextServerFailsInOneLine() throws Exception {
    Path id = dir.resolve("me.json");
    Identity.create(id, "alice#example.com");
    try (ServerSocket plain = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      // A plaintext server speaks first: its hello is no TLS record.
      Thread server = new Thread(() -> {
        try (java.net.Socket s = plain.accept()) {
          s.getOutputStream().write("{\"type\":\"hello\",\"protocol\":\"esmp/1\"}\n".getBytes());
          s.getInputStream().read();
        } catch (IOException ignored) {
          // the client gave up
        }
      });
      server.start();
      Cli.Result r = Cli.run("--tls-pin", "00".repeat(32), "--server", "127.0.0.1:" + plain.getLocalPort(),
          "--identity", id.toString(), "register");
      assertEquals(1, r.code());
      assertTrue(r.err().startsWith("esmp: cannot connect to 127.0.0.1:" + plain.getLocalPort() + ": TLS with "), r.err());
      assertTrue(r.err().contains("does the server have TLS on?"), r.err());
      assertEquals(1, r.err().lines().count(), r.err());
      server.join(5_000);
    }
  }
}
