package org.esmp.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.esmp.client.FakeServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code esmp group remove}: a {@code removed} naming the member. */
@Timeout(30)
class GroupRemoveCommandTest {

  @TempDir Path dir;

  @Test
  void removesTheMemberAndPrintsTheSeq() throws Exception {
    try (Cli cli = Cli.against(new SmallServer(), dir)) {
      assertEquals(new Cli.Result(0, "removed carol#example.com (#1)\n", ""),
          cli.esmp("group", "remove", SmallServer.GROUP, "carol#example.com"));
      ObjectNode removed = cli.server.received.poll(5, TimeUnit.SECONDS);
      assertEquals("{\"type\":\"removed\",\"to\":[],\"group_id\":\"" + SmallServer.GROUP
          + "\",\"body\":{\"member\":\"carol#example.com\"}}", SendCommandTest.withoutSignatureAndTs(removed));
    }
  }

  @Test
  void printsTheAckWithJson() throws Exception {
    try (Cli cli = Cli.against(new SmallServer(), dir)) {
      Cli.Result r = cli.esmp("group", "remove", "--json", SmallServer.GROUP, "carol#example.com");
      String id = FakeServer.idOf(cli.server.received.poll(5, TimeUnit.SECONDS));
      assertEquals(new Cli.Result(0, "{\"type\":\"ack\",\"re\":\"" + id
          + "\",\"duplicate\":false,\"seq\":1}\n", ""), r);
    }
  }

  @Test
  void aBadMemberIsAUsageError() {
    assertEquals(2, Cli.run("group", "remove", SmallServer.GROUP, "Carol").code());
  }
}
