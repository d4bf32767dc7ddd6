package org.esmp.server;

import static org.esmp.server.testing.Frames.assertAck;
import static org.esmp.server.testing.Frames.assertError;
import static org.esmp.server.testing.Frames.auth;
import static org.esmp.server.testing.Frames.now;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.UUID;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;
import org.esmp.server.testing.SharedServerTest;
import org.esmp.server.testing.TestClient;
import org.esmp.server.testing.TestIdentity;
import org.esmp.server.testing.TestUser;
import org.junit.jupiter.api.Test;

/**
 * {@code ts} is required on every type but the session types (ESMP/1 section 2.1), over TCP against
 * the real server: a ts-less content or system message, however often it is sent, is {@code
 * missing_field} and changes nothing, while session messages without {@code ts} are still served.
 */
class RequiredTsIT extends SharedServerTest {

  private static final String MISSING_TS =
      "missing field 'ts' (required on every type but the session types, such as auth, sync and lookup)";

  private static TestUser user(String name) throws Exception {
    return TestUser.register(server.port(), name);
  }

  private static JsonObject groupMessage(String type, String group, JsonObject body) {
    return JsonObject.builder().put("type", type).put("to", JsonArray.of()).put("group_id", group)
        .put("body", body).build();
  }

  private static JsonObject withoutTs(String type, JsonObject body) {
    return JsonObject.builder().put("type", type).put("to", JsonArray.of()).put("body", body).build();
  }

  private static void assertMissingTs(JsonNode answer, String expectedId) {
    assertError(answer, "missing_field");
    assertEquals(MISSING_TS, answer.path("message").asText());
    assertEquals(expectedId, answer.path("re").asText(), "the refusal names the message it answers");
  }

  @Test
  void refusesATsLessTextEveryTimeItIsSentAndDeliversNothing() throws Exception {
    TestUser amy = user("amy");
    TestUser bo = user("bo");
    JsonObject text = JsonObject.builder().put("type", "text")
        .put("to", JsonArray.ofStrings(List.of(bo.address())))
        .put("body", JsonObject.builder().put("text", "signed once, replayed later").build()).build();
    String frame = amy.key().frame(text);
    String id = amy.client().call(frame).path("re").asText();
    assertEquals(64, id.length());
    // The replay: the same bytes again, as an attacker holding an old ts-less frame would send them.
    assertMissingTs(amy.client().call(frame), id);
    assertMissingTs(bo.client().call(frame), id);

    List<JsonNode> boSees = bo.syncAll(0);
    assertEquals(List.of("synced"), boSees.stream().map(f -> f.path("type").asText()).toList(),
        "nothing reached the recipient");
  }

  @Test
  void refusesATsLessJoinedAndTheGroupKeepsItsMembers() throws Exception {
    TestUser cy = user("cy");
    TestUser di = user("di");
    String group = UUID.randomUUID().toString();
    assertAck(cy.send(groupMessage("group_created", group, JsonObject.builder().put("name", "open team")
        .put("members", JsonArray.of()).put("policy", "open").build()).toBuilder().put("ts", now()).build()));

    String joined = di.key().frame(groupMessage("joined", group, JsonObject.empty()));
    JsonNode first = di.client().call(joined);
    assertError(first, "missing_field");
    assertMissingTs(di.client().call(joined), first.path("re").asText());

    JsonNode state = cy.send(groupMessage("group_info", group, JsonObject.empty()));
    assertEquals("group", state.path("type").asText(), state.toString());
    assertEquals(List.of(cy.address()), List.of(state.path("members").path(0).asText()));
    assertEquals(1, state.path("members").size(), "di did not join");
    assertEquals(1, state.path("seq").asLong(), "the thread holds only group_created");

    // The same join with a ts is accepted: only the ts was missing.
    assertEquals(2, assertAck(di.send(groupMessage("joined", group, JsonObject.empty()).toBuilder()
        .put("ts", now()).build())).path("seq").asLong());
  }

  @Test
  void refusesATsLessMessageOfATypeNoPluginDeclaresAsMissingFieldFirst() throws Exception {
    TestUser ed = user("ed");
    // Fields come before the type (section 3), and only the session types may omit ts.
    JsonNode answer = ed.send(withoutTs("no.such-type", JsonObject.empty()));
    assertMissingTs(answer, answer.path("re").asText());
  }

  @Test
  void servesEverySessionTypeWithoutTs() throws Exception {
    try (TestClient client = new TestClient(server.port())) {
      TestIdentity fay = TestIdentity.random();
      JsonObject authWithTs = auth(client, "fay#example.com");
      JsonNode registered = client.call(fay.frame(authWithTs.toBuilder().remove("ts").build()));
      assertAck(registered);
      assertTrue(registered.path("registered").asBoolean(), registered.toString());

      String group = UUID.randomUUID().toString();
      assertAck(client.call(fay.frame(groupMessage("group_created", group, JsonObject.builder()
          .put("name", "solo").put("members", JsonArray.of()).put("policy", "invite").build())
          .toBuilder().put("ts", now()).build())));

      JsonNode lookup = client.call(fay.frame(withoutTs("lookup",
          JsonObject.builder().put("address", "fay#example.com").build())));
      assertEquals("keys", lookup.path("type").asText(), lookup.toString());
      assertEquals(List.of(fay.publicKey()), List.of(lookup.path("keys").path(0).asText()));

      JsonNode info = client.call(fay.frame(groupMessage("group_info", group, JsonObject.empty())));
      assertEquals("group", info.path("type").asText(), info.toString());

      JsonNode history = client.call(fay.frame(groupMessage("history", group, JsonObject.empty())));
      assertEquals("history", history.path("type").asText(), history.toString());

      client.send(fay.frame(withoutTs("sync", JsonObject.builder().put("since", 0).build())));
      JsonNode frame;
      do {
        frame = client.read();
      } while (frame.path("type").asText().equals("deliver"));
      assertEquals("synced", frame.path("type").asText(), frame.toString());
    }
  }
}
