package org.esmp.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code esmp register}: an {@code auth}, and whether it registered the address. */
@Timeout(30)
class RegisterCommandTest {

  @TempDir Path dir;

  @Test
  void saysRegisteredWhenTheAuthRegistered() throws Exception {
    try (Cli cli = Cli.against(new SmallServer(), dir)) {
      assertEquals(new Cli.Result(0, "registered alice#example.com\n", ""), cli.esmp("register"));
      ObjectNode auth = cli.server.received.poll(5, TimeUnit.SECONDS);
      assertEquals("auth", auth.path("type").asText());
      assertEquals("alice#example.com", auth.path("body").path("address").asText());
    }
  }

  @Test
  void saysAlreadyRegisteredOtherwise() throws Exception {
    SmallServer server = new SmallServer();
    server.registers = false;
    try (Cli cli = Cli.against(server, dir)) {
      assertEquals(new Cli.Result(0, "alice#example.com is already registered with this key\n", ""),
          cli.esmp("register"));
      assertEquals(new Cli.Result(0, "{\"address\":\"alice#example.com\",\"registered\":false}\n", ""),
          cli.esmp("register", "--json"));
    }
  }

  @Test
  void printsOneJsonObjectWithJson() throws Exception {
    try (Cli cli = Cli.against(new SmallServer(), dir)) {
      assertEquals(new Cli.Result(0, "{\"address\":\"alice#example.com\",\"registered\":true}\n", ""),
          cli.esmp("register", "--json"));
    }
  }

  @Test
  void withoutAnIdentityFileSaysHowToMakeOne() {
    Path missing = dir.resolve("nobody.json");
    assertEquals(new Cli.Result(1, "", "esmp: no identity file " + missing
            + " (create one with: esmp keygen ADDRESS)\n"),
        Cli.run("--server", "127.0.0.1:1", "--identity", missing.toString(), "register"));
  }
}
