package org.esmp.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.esmp.client.FakeServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code esmp group add}: a {@code joined} naming the member. */
@Timeout(30)
class GroupAddCommandTest {

  @TempDir Path dir;

  @Test
  void addsTheMemberAndPrintsTheSeq() throws Exception {
    try (Cli cli = Cli.against(new SmallServer(), dir)) {
      assertEquals(new Cli.Result(0, "added carol#example.com (#1)\n", ""),
          cli.esmp("group", "add", SmallServer.GROUP, "carol#example.com"));
      ObjectNode joined = cli.server.received.poll(5, TimeUnit.SECONDS);
      assertEquals("{\"type\":\"joined\",\"to\":[],\"group_id\":\"" + SmallServer.GROUP
          + "\",\"body\":{\"member\":\"carol#example.com\"}}", SendCommandTest.withoutSignatureAndTs(joined));
    }
  }

  @Test
  void printsTheAckWithJson() throws Exception {
    try (Cli cli = Cli.against(new SmallServer(), dir)) {
      Cli.Result r = cli.esmp("group", "add", "--json", SmallServer.GROUP, "carol#example.com");
      String id = FakeServer.idOf(cli.server.received.poll(5, TimeUnit.SECONDS));
      assertEquals(new Cli.Result(0, "{\"type\":\"ack\",\"re\":\"" + id
          + "\",\"duplicate\":false,\"seq\":1}\n", ""), r);
    }
  }

  @Test
  void aBadMemberIsAUsageError() {
    assertEquals(2, Cli.run("group", "add", SmallServer.GROUP, "Carol").code());
  }
}
