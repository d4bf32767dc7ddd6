package org.esmp.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.esmp.client.FakeServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code esmp group info}: auth, then the group's name, policy, members, admins and seq. */
@Timeout(30)
class GroupInfoCommandTest {

  @TempDir Path dir;

  @Test
  void printsOneFieldPerLine() throws Exception {
    try (Cli cli = Cli.against(new SmallServer(), dir)) {
      assertEquals(new Cli.Result(0, "group   " + SmallServer.GROUP + "\n"
          + "name    lunch\n"
          + "policy  invite\n"
          + "members bob#example.com, alice#example.com\n"
          + "admins  bob#example.com\n"
          + "seq     7\n", ""), cli.esmp("group", "info", SmallServer.GROUP));
      assertEquals("auth", cli.server.received.poll(5, TimeUnit.SECONDS).path("type").asText());
      assertEquals("{\"type\":\"group_info\",\"to\":[],\"group_id\":\"" + SmallServer.GROUP
          + "\",\"body\":{}}", SendCommandTest.withoutSignatureAndTs(cli.server.received.poll(5, TimeUnit.SECONDS)));
    }
  }

  @Test
  void printsTheAnswerWithJson() throws Exception {
    try (Cli cli = Cli.against(new SmallServer(), dir)) {
      Cli.Result r = cli.esmp("group", "info", "--json", SmallServer.GROUP);
      cli.server.received.poll(5, TimeUnit.SECONDS);
      String id = FakeServer.idOf(cli.server.received.poll(5, TimeUnit.SECONDS));
      assertEquals(new Cli.Result(0, "{\"type\":\"group\",\"re\":\"" + id + "\",\"group_id\":\""
          + SmallServer.GROUP + "\",\"name\":\"lunch\",\"policy\":\"invite\",\"members\":"
          + "[\"bob#example.com\",\"alice#example.com\"],\"admins\":[\"bob#example.com\"],\"seq\":7}\n", ""), r);
    }
  }
}
