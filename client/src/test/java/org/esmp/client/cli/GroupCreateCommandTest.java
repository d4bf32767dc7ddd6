package org.esmp.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code esmp group create}: a {@code group_created} under a fresh id, which it prints. */
@Timeout(30)
class GroupCreateCommandTest {

  @TempDir Path dir;

  @Test
  void createsAnInviteGroupAndPrintsItsId() throws Exception {
    try (Cli cli = Cli.against(new SmallServer(), dir)) {
      Cli.Result r = cli.esmp("group", "create", "lunch", "--member", "bob#example.com",
          "--member", "carol#example.com");
      assertEquals(0, r.code());
      assertEquals("", r.err());
      String id = r.out().strip();
      assertTrue(id.matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"), id);
      assertEquals(id + "\n", r.out());
      ObjectNode created = cli.server.received.poll(5, TimeUnit.SECONDS);
      assertEquals("{\"type\":\"group_created\",\"to\":[],\"group_id\":\"" + id + "\",\"body\":"
          + "{\"name\":\"lunch\",\"members\":[\"bob#example.com\",\"carol#example.com\"],"
          + "\"policy\":\"invite\"}}", SendCommandTest.withoutSignatureAndTs(created));
    }
  }

  @Test
  void openMakesAGroupAnyoneMayJoin() throws Exception {
    try (Cli cli = Cli.against(new SmallServer(), dir)) {
      assertEquals(0, cli.esmp("group", "create", "--open", "lunch").code());
      ObjectNode created = cli.server.received.poll(5, TimeUnit.SECONDS);
      assertEquals("{\"name\":\"lunch\",\"members\":[],\"policy\":\"open\"}",
          created.path("body").toString());
    }
  }

  @Test
  void printsTheIdAsJsonWithJson() throws Exception {
    try (Cli cli = Cli.against(new SmallServer(), dir)) {
      Cli.Result r = cli.esmp("group", "create", "--json", "lunch");
      String id = cli.server.received.poll(5, TimeUnit.SECONDS).path("group_id").asText();
      assertEquals(new Cli.Result(0, "{\"group_id\":\"" + id + "\"}\n", ""), r);
    }
  }

  @Test
  void aBadMemberIsAUsageError() {
    assertEquals(2, Cli.run("group", "create", "lunch", "--member", "Bob").code());
  }
}
