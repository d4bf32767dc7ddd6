package org.esmp.server;

import static org.esmp.server.testing.Frames.assertAck;
import static org.esmp.server.testing.Frames.now;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;
import org.esmp.server.testing.SharedServerTest;
import org.esmp.server.testing.TestUser;
import org.junit.jupiter.api.Test;

/**
 * Answers count against a connection's output cap like live pushes (issue 11, finding 1): a client
 * that asks for large answers and never reads them is disconnected, rather than the server
 * queueing without bound (before, 150 such requests grew the server by 1.3 GiB).
 */
class OutputCapIT extends SharedServerTest {

  @Test
  void aClientThatAsksForLargeAnswersAndNeverReadsIsDisconnected() throws Exception {
    TestUser ann = TestUser.register(server.port(), "reader");
    String group = UUID.randomUUID().toString();
    assertAck(ann.send(event("group_created", group, JsonObject.builder()
        .put("members", JsonArray.of()).put("policy", "invite").build())));
    String large = "x".repeat(60_000);
    for (int i = 0; i < 70; i++) { // about 4 MiB of thread: every history answer is a few MiB
      assertAck(ann.send(event("text", group, JsonObject.builder().put("text", large + i).build())));
    }
    StringBuilder requests = new StringBuilder();
    for (int i = 0; i < 150; i++) {
      requests.append(ann.key().frame(event("history", group, JsonObject.builder().put("limit", 500).build())))
          .append('\n');
    }
    // On the authenticated connection (history needs auth), all at once, then nothing read for a while.
    ann.client().sendRaw(requests.toString().getBytes(StandardCharsets.UTF_8));
    Thread.sleep(3_000);
    assertTrue(ann.client().closedByServer(), "the connection that read nothing was closed");
  }

  private static JsonObject event(String type, String group, JsonObject body) {
    return JsonObject.builder().put("type", type).put("to", JsonArray.of()).put("group_id", group)
        .put("body", body).put("ts", now()).build();
  }
}
