package org.esmp.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.esmp.client.FakeServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code esmp group leave}: a {@code left} with an empty body. */
@Timeout(30)
class GroupLeaveCommandTest {

  @TempDir Path dir;

  @Test
  void leavesAndPrintsTheSeq() throws Exception {
    try (Cli cli = Cli.against(new SmallServer(), dir)) {
      assertEquals(new Cli.Result(0, "left " + SmallServer.GROUP + " (#1)\n", ""),
          cli.esmp("group", "leave", SmallServer.GROUP));
      ObjectNode left = cli.server.received.poll(5, TimeUnit.SECONDS);
      assertEquals("{\"type\":\"left\",\"to\":[],\"group_id\":\"" + SmallServer.GROUP
          + "\",\"body\":{}}", SendCommandTest.withoutSignatureAndTs(left));
    }
  }

  @Test
  void printsTheAckWithJson() throws Exception {
    try (Cli cli = Cli.against(new SmallServer(), dir)) {
      Cli.Result r = cli.esmp("group", "leave", "--json", SmallServer.GROUP);
      String id = FakeServer.idOf(cli.server.received.poll(5, TimeUnit.SECONDS));
      assertEquals(new Cli.Result(0, "{\"type\":\"ack\",\"re\":\"" + id
          + "\",\"duplicate\":false,\"seq\":1}\n", ""), r);
    }
  }
}
