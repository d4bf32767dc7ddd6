package org.esmp.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
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
    assertTrue(r.out().startsWith("Usage: esmp [-hV] [--identity=FILE] [--server=HOST:PORT] [COMMAND]\n"
        + "ESMP/1 command-line client: keys, messages, mailbox, groups.\n"), r.out());
    assertTrue(r.out().contains("""
        Commands:
          keygen    Create a new key for ADDRESS in the identity file (never overwrites
                      one).
          register  Register the identity's address with its key (on a server with open
                      registration), or check that it is registered.
          send      Send a text message.
          listen    Print what arrives in the mailbox, from the saved cursor on, saving
                      the cursor as it goes.
          group     Groups: create, add, remove, leave, post, history, info.
          lookup    Print the public keys of ADDR.
          help      Display help information about the specified command.
        """), r.out());
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
}
