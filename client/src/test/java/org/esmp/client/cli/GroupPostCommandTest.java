package org.esmp.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.esmp.client.FakeServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code esmp group post}: a {@code text} into the group's thread. */
@Timeout(30)
class GroupPostCommandTest {

  @TempDir Path dir;

  @Test
  void postsTheWordsAsOneTextAndPrintsTheSeq() throws Exception {
    try (Cli cli = Cli.against(new SmallServer(), dir)) {
      assertEquals(new Cli.Result(0, "posted (#1)\n", ""),
          cli.esmp("group", "post", SmallServer.GROUP, "Noon", "at the usual place"));
      ObjectNode post = cli.server.received.poll(5, TimeUnit.SECONDS);
      assertEquals("{\"type\":\"text\",\"to\":[],\"group_id\":\"" + SmallServer.GROUP
          + "\",\"body\":{\"text\":\"Noon at the usual place\"}}", SendCommandTest.withoutSignatureAndTs(post));
    }
  }

  @Test
  void printsTheAckWithJson() throws Exception {
    try (Cli cli = Cli.against(new SmallServer(), dir)) {
      Cli.Result r = cli.esmp("group", "post", "--json", SmallServer.GROUP, "hi");
      String id = FakeServer.idOf(cli.server.received.poll(5, TimeUnit.SECONDS));
      assertEquals(new Cli.Result(0, "{\"type\":\"ack\",\"re\":\"" + id
          + "\",\"duplicate\":false,\"seq\":1}\n", ""), r);
    }
  }

  private static void notAMember(FakeServer.Conn conn, ObjectNode frame) throws IOException {
    ObjectNode error = FakeServer.JSON.createObjectNode();
    error.put("type", "error").put("re", FakeServer.idOf(frame)).put("code", "not_member")
        .put("message", "you are not a member");
    conn.send(error);
  }

  @Test
  void aServerErrorIsOneLineWithItsCodeAndExitCode1() throws Exception {
    try (Cli cli = Cli.against(GroupPostCommandTest::notAMember, dir)) {
      assertEquals(new Cli.Result(1, "", "esmp: server error not_member: you are not a member\n"),
          cli.esmp("group", "post", "some-group", "hello"));
    }
  }
}
