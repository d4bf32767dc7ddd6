package org.esmp.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.esmp.client.Identity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code esmp keygen}: needs no server. */
@Timeout(30)
class KeygenCommandTest {

  @TempDir Path dir;

  @Test
  void writesANewIdentityAndSaysWhere() throws IOException {
    Path file = dir.resolve("me.json");
    Cli.Result r = Cli.run("--identity", file.toString(), "keygen", "alice#example.com");
    Identity me = Identity.load(file);
    assertEquals(new Cli.Result(0, "alice#example.com: new key " + me.key().publicKeyBase64()
        + " saved in " + file + "\n", ""), r);
    assertEquals("alice#example.com", me.address());
    assertEquals(0, me.cursor());
  }

  @Test
  void printsOneJsonObjectWithJson() throws IOException {
    Path file = dir.resolve("me.json");
    Cli.Result r = Cli.run("--identity", file.toString(), "keygen", "--json", "alice#example.com");
    Identity me = Identity.load(file);
    assertEquals(new Cli.Result(0, "{\"address\":\"alice#example.com\",\"public_key\":\""
        + me.key().publicKeyBase64() + "\",\"identity\":\"" + file + "\"}\n", ""), r);
  }

  @Test
  void refusesToOverwriteAnIdentity() throws IOException {
    Path file = dir.resolve("me.json");
    assertEquals(0, Cli.run("--identity", file.toString(), "keygen", "alice#example.com").code());
    String before = Files.readString(file);
    Cli.Result again = Cli.run("--identity", file.toString(), "keygen", "bob#example.com");
    assertEquals(new Cli.Result(1, "", "esmp: " + file + " already exists; not overwriting an identity\n"), again);
    assertEquals(before, Files.readString(file));
  }

  @Test
  void aBadAddressIsAUsageErrorAndWritesNothing() {
    Path file = dir.resolve("me.json");
    Cli.Result r = Cli.run("--identity", file.toString(), "keygen", "Alice#example.com");
    assertEquals(2, r.code());
    assertTrue(r.err().startsWith("not an ESMP address (local#domain, lowercase): Alice#example.com\n"), r.err());
    assertTrue(Files.notExists(file));
  }
}
