package org.esmp.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The group messages as built, and their answers as read, with no server: a scripted caller. */
class GroupsTest {

  private static final String GROUP = "0f8f2d3e-5b6a-4c1d-9e8f-7a6b5c4d3e2f";
  private static final SigningKey BOB = SigningKey.generate();

  private final List<ObjectNode> sent = new ArrayList<>();
  private ObjectNode answer = ack(7);
  private final Groups groups = new Groups(message -> {
    sent.add(message);
    return answer;
  });

  @Test
  void createSendsGroupCreatedUnderAFreshUuid() throws IOException {
    String id = groups.create("lunch", List.of("bob#example.com", "carol#example.com"), false);
    assertTrue(id.matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"), id);
    assertEquals("{\"type\":\"group_created\",\"to\":[],\"group_id\":\"" + id + "\",\"body\":{"
        + "\"name\":\"lunch\",\"members\":[\"bob#example.com\",\"carol#example.com\"],"
        + "\"policy\":\"invite\"}}", sent.get(0).toString());
    String open = groups.create(null, List.of(), true);
    assertEquals("{\"members\":[],\"policy\":\"open\"}", sent.get(1).path("body").toString());
    assertFalse(open.equals(id));
  }

  @Test
  void createWantsAnAck() {
    answer = FakeServer.JSON.createObjectNode().put("type", "keys");
    IOException e = assertThrows(IOException.class, () -> groups.create("x", List.of(), false));
    assertTrue(e.getMessage().startsWith("expected an ack, got "), e.getMessage());
  }

  @Test
  void membershipMessagesNameTheMember() throws IOException {
    EsmpClient.Ack added = groups.add(GROUP, "carol#example.com");
    groups.remove(GROUP, "carol#example.com");
    groups.leave(GROUP);
    assertEquals(List.of(
        "{\"type\":\"joined\",\"to\":[],\"group_id\":\"" + GROUP + "\",\"body\":{\"member\":\"carol#example.com\"}}",
        "{\"type\":\"removed\",\"to\":[],\"group_id\":\"" + GROUP + "\",\"body\":{\"member\":\"carol#example.com\"}}",
        "{\"type\":\"left\",\"to\":[],\"group_id\":\"" + GROUP + "\",\"body\":{}}"),
        sent.stream().map(ObjectNode::toString).toList());
    assertEquals(7L, added.seq());
    assertEquals("id", added.id());
    assertFalse(added.duplicate());
    assertEquals(Map.of(), added.rejected());
  }

  @Test
  void refusesABadMemberAddressBeforeSending() {
    assertThrows(IllegalArgumentException.class, () -> groups.add(GROUP, "Carol"));
    assertThrows(IllegalArgumentException.class, () -> groups.create("x", List.of("carol"), false));
    assertTrue(sent.isEmpty());
  }

  @Test
  void postSendsATextIntoTheThread() throws IOException {
    assertEquals(7L, groups.post(GROUP, "noon?").seq());
    assertEquals("{\"type\":\"text\",\"to\":[],\"group_id\":\"" + GROUP + "\",\"body\":{\"text\":\"noon?\"}}",
        sent.get(0).toString());
  }

  @Test
  void historyAsksForAPageAndVerifiesEachEntry() throws IOException {
    answer = history(entry(2, "noon?"), entry(1, "lunch?"));
    answer.put("more", true);
    EsmpClient.History page = groups.history(GROUP, 3L, 2);
    assertEquals("{\"before\":3,\"limit\":2}", sent.get(0).path("body").toString());
    assertEquals("history", sent.get(0).path("type").asText());
    assertEquals(GROUP, page.groupId());
    assertTrue(page.more());
    assertEquals(List.of("noon?", "lunch?"), page.entries().stream().map(Delivery::text).toList());
    assertEquals(List.of(2L, 1L), page.entries().stream().map(Delivery::seq).toList());
    assertNull(page.entries().get(0).cursor());

    groups.history(GROUP, null, null);
    assertEquals("{}", sent.get(1).path("body").toString());
  }

  @Test
  void historyRefusesAnEntryThatDoesNotVerify() {
    ObjectNode forged = entry(1, "pay 10");
    ((ObjectNode) forged.path("message").path("body")).put("text", "pay 1000");
    answer = history(entry(2, "fine"), forged);
    InvalidMessageException e = assertThrows(InvalidMessageException.class,
        () -> groups.history(GROUP, null, null));
    assertTrue(e.getMessage().endsWith("signature does not verify"), e.getMessage());
    assertEquals(1L, e.delivery().seq());
  }

  @Test
  void infoReadsTheGroupAnswer() throws IOException {
    answer = FakeServer.JSON.createObjectNode().put("type", "group").put("re", "id")
        .put("group_id", GROUP).put("name", "lunch").put("policy", "open");
    answer.putArray("members").add("bob#example.com").add("alice#example.com");
    answer.putArray("admins").add("bob#example.com");
    answer.put("seq", 9);
    EsmpClient.GroupInfo info = groups.info(GROUP);
    assertEquals("{\"type\":\"group_info\",\"to\":[],\"group_id\":\"" + GROUP + "\",\"body\":{}}",
        sent.get(0).toString());
    assertEquals(GROUP, info.groupId());
    assertEquals("lunch", info.name());
    assertEquals("open", info.policy());
    assertEquals(List.of("bob#example.com", "alice#example.com"), info.members());
    assertEquals(List.of("bob#example.com"), info.admins());
    assertEquals(9, info.seq());

    answer.putNull("name");
    assertNull(groups.info(GROUP).name());
  }

  private static ObjectNode ack(long seq) {
    return FakeServer.JSON.createObjectNode().put("type", "ack").put("re", "id")
        .put("duplicate", false).put("seq", seq);
  }

  private static ObjectNode history(ObjectNode... entries) {
    ObjectNode h = FakeServer.JSON.createObjectNode().put("type", "history").put("re", "id")
        .put("group_id", GROUP);
    h.putArray("entries").addAll(List.of(entries));
    return h.put("more", false);
  }

  /** A history entry: Bob's text {@code text} at {@code seq}. */
  private static ObjectNode entry(long seq, String text) {
    ObjectNode m = Frames.newGroupMessage("text", GROUP);
    m.putObject("body").put("text", text);
    m.put("ts", seq);
    ObjectNode message = Messages.sign(m, BOB).frame();
    ObjectNode entry = FakeServer.JSON.createObjectNode().put("id", FakeServer.idOf(message))
        .put("from", "bob#example.com").put("received_at", 1764000000000L).put("group_id", GROUP)
        .put("seq", seq);
    entry.set("message", message);
    return entry;
  }
}
