package org.esmp.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code esmp lookup}: the keys of an address, one per line. */
@Timeout(30)
class LookupCommandTest {

  @TempDir Path dir;

  @Test
  void printsTheKeysOnePerLine() throws Exception {
    try (Cli cli = Cli.against(new SmallServer(), dir)) {
      assertEquals(new Cli.Result(0, SmallServer.BOB.publicKeyBase64() + "\n", ""),
          cli.esmp("lookup", "bob#example.com"));
      assertEquals("bob#example.com",
          cli.server.received.poll(5, TimeUnit.SECONDS).path("body").path("address").asText());
    }
  }

  @Test
  void printsOneJsonObjectWithJson() throws Exception {
    try (Cli cli = Cli.against(new SmallServer(), dir)) {
      assertEquals(new Cli.Result(0, "{\"address\":\"bob#example.com\",\"keys\":[\""
          + SmallServer.BOB.publicKeyBase64() + "\"]}\n", ""), cli.esmp("lookup", "--json", "bob#example.com"));
    }
  }

  @Test
  void anUnknownAddressFails() throws Exception {
    try (Cli cli = Cli.against(new SmallServer(), dir)) {
      assertEquals(new Cli.Result(1, "", "esmp: no such address: nobody#example.com\n"),
          cli.esmp("lookup", "nobody#example.com"));
      assertEquals(new Cli.Result(1, "{\"address\":\"nobody#example.com\",\"keys\":[]}\n",
          "esmp: no such address: nobody#example.com\n"), cli.esmp("lookup", "--json", "nobody#example.com"));
    }
  }

  @Test
  void aBadAddressIsAUsageError() {
    assertEquals(2, Cli.run("lookup", "bob").code());
  }
}
