package org.esmp.server.federation;

import static org.esmp.server.federation.FederationFrames.groupMessage;
import static org.esmp.server.federation.FederationFrames.groupText;
import static org.esmp.server.federation.FederationFrames.ids;
import static org.esmp.server.federation.FederationFrames.strings;
import static org.esmp.server.federation.FederationFrames.verify;
import static org.esmp.server.testing.Frames.assertAck;
import static org.esmp.server.testing.Frames.assertError;
import static org.esmp.server.testing.Frames.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;
import org.esmp.server.testing.Await;
import org.esmp.server.testing.FederatedServer;
import org.esmp.server.testing.TestUser;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A group whose members are on three servers in child JVMs (a.example, its home; b.example;
 * c.example), each pinning the other two (ESMP/1 section 8, Groups): every thread entry reaches
 * every member's server with the seq the home gave it, remote members post, read the history and
 * the group's state through their own server, and a removed member stops receiving.
 */
class FederationGroupsIT {

  private static final Duration ARRIVAL = Duration.ofSeconds(30);

  @TempDir static Path dir;
  static FederatedServer a;
  static FederatedServer b;
  static FederatedServer c;

  @BeforeAll
  static void startServers() throws Exception {
    a = FederatedServer.create("a.example", dir);
    b = FederatedServer.create("b.example", dir);
    c = FederatedServer.create("c.example", dir);
    a.pin(b, c);
    b.pin(a, c);
    c.pin(a, b);
    FederatedServer.startAll(a, b, c);
  }

  @AfterAll
  static void stopServers() throws Exception {
    for (FederatedServer server : new FederatedServer[] {a, b, c}) {
      if (server != null) {
        server.close();
      }
    }
  }

  private static String logs() {
    return a.log() + b.log() + c.log();
  }

  /** seq → id of the group's entries in {@code user}'s mailbox on {@code server}, once it holds {@code seqs} of them. */
  private static Map<Long, String> awaitThread(FederatedServer server, TestUser user, String group, int seqs)
      throws Exception {
    List<JsonNode> mailbox = Await.until(seqs + " entries of the group in " + user.address() + "'s mailbox", ARRIVAL,
        () -> server.mailbox(user), box -> box.stream().filter(e -> group.equals(e.path("group_id").asText())).count() >= seqs,
        FederationGroupsIT::logs);
    return thread(mailbox, group);
  }

  /** seq → id of {@code group}'s entries among {@code entries}, in their order; fails on a repeated seq. */
  private static Map<Long, String> thread(List<JsonNode> entries, String group) {
    Map<Long, String> thread = new LinkedHashMap<>();
    for (JsonNode entry : entries) {
      if (group.equals(entry.path("group_id").asText())) {
        verify(entry);
        String before = thread.put(entry.path("seq").asLong(), entry.path("id").asText());
        assertEquals(null, before, "seq " + entry.path("seq") + " once: " + entries);
      }
    }
    return thread;
  }

  /** The map of seqs 1..n of {@code ids}. */
  private static Map<Long, String> seqs(List<String> ids) {
    Map<Long, String> thread = new LinkedHashMap<>();
    for (int i = 0; i < ids.size(); i++) {
      thread.put(i + 1L, ids.get(i));
    }
    return thread;
  }

  private static long seq(JsonNode answer) {
    assertAck(answer);
    assertFalse(answer.path("duplicate").asBoolean(), answer.toString());
    return answer.path("seq").asLong();
  }

  @Test
  void aGroupAcrossThreeServersKeepsOneGaplessThread() throws Exception {
    TestUser alice = a.register("alice");
    TestUser bob = b.register("bob");
    TestUser carol = c.register("carol");
    String group = UUID.randomUUID().toString();
    List<String> thread = new ArrayList<>();

    JsonNode created = alice.send(groupMessage("group_created", group, JsonObject.builder().put("name", "three servers")
        .put("members", JsonArray.ofStrings(List.of(bob.address(), carol.address()))).build()));
    assertEquals(1, seq(created), created.toString());
    thread.add(created.path("re").asText());
    // The remote members' servers learn the group's home from its first entry.
    assertEquals(seqs(thread), awaitThread(b, bob, group, 1));
    assertEquals(seqs(thread), awaitThread(c, carol, group, 1));

    JsonNode fromA = alice.send(groupText(group, "from a"));
    assertEquals(2, seq(fromA), fromA.toString());
    thread.add(fromA.path("re").asText());
    JsonNode fromB = bob.send(groupText(group, "from b"));
    assertEquals(3, seq(fromB), "bob's post, answered by the home through b.example: " + fromB);
    thread.add(fromB.path("re").asText());
    JsonNode fromC = carol.send(groupText(group, "from c"));
    assertEquals(4, seq(fromC), fromC.toString());
    thread.add(fromC.path("re").asText());

    for (var member : List.of(Map.entry(a, alice), Map.entry(b, bob), Map.entry(c, carol))) {
      assertEquals(seqs(thread), awaitThread(member.getKey(), member.getValue(), group, 4),
          "the same thread, seq for seq, at " + member.getKey().domain());
    }
    List<JsonNode> bobs = b.mailbox(bob);
    assertEquals(carol.address(), bobs.get(3).path("from").asText());
    assertEquals(carol.key().publicKey(), verify(bobs.get(3)), "carol's own signature reaches bob");

    // A remote member's history, from the home through b.example: newest first.
    JsonNode history = bob.send(groupMessage("history", group, JsonObject.builder().put("limit", 10).build()));
    assertEquals("history", history.path("type").asText(), history.toString());
    assertEquals(group, history.path("group_id").asText());
    assertFalse(history.path("more").asBoolean());
    List<JsonNode> entries = new ArrayList<>();
    history.path("entries").forEach(entries::add);
    assertEquals(List.of(4L, 3L, 2L, 1L), entries.stream().map(e -> e.path("seq").asLong()).toList());
    assertEquals(List.of(thread.get(3), thread.get(2), thread.get(1), thread.get(0)), ids(entries));
    entries.forEach(FederationFrames::verify);

    // Removing a remote member: carol gets the event, then nothing more of the group.
    JsonNode removed = alice.send(groupMessage("removed", group, JsonObject.builder().put("member", carol.address()).build()));
    assertEquals(5, seq(removed), removed.toString());
    thread.add(removed.path("re").asText());
    assertEquals(seqs(thread), awaitThread(c, carol, group, 5), "carol is told she was removed");
    assertError(carol.send(groupText(group, "still here?")), "not_member");
    assertError(carol.send(groupMessage("history", group, JsonObject.builder().build())), "not_member");

    JsonNode afterA = alice.send(groupText(group, "after carol, from a"));
    assertEquals(6, seq(afterA), afterA.toString());
    thread.add(afterA.path("re").asText());
    JsonNode afterB = bob.send(groupText(group, "after carol, from b"));
    assertEquals(7, seq(afterB), afterB.toString());
    thread.add(afterB.path("re").asText());

    assertEquals(seqs(thread), awaitThread(a, alice, group, 7));
    assertEquals(seqs(thread), awaitThread(b, bob, group, 7));
    // A direct message to carol, sent after the posts: once it is there, so would they be.
    String marker = assertAck(alice.send(text("after the group", carol.address()))).path("re").asText();
    List<JsonNode> carols = Await.until("alice's direct message at carol", ARRIVAL, () -> c.mailbox(carol),
        box -> ids(box).contains(marker), FederationGroupsIT::logs);
    assertEquals(seqs(thread.subList(0, 5)), thread(carols, group), "nothing of the group after her removal");
    assertEquals(6, carols.size(), "her five entries of the group and the direct message: " + carols);

    JsonNode info = bob.send(groupMessage("group_info", group, JsonObject.builder().build()));
    assertEquals("group", info.path("type").asText(), info.toString());
    assertEquals(java.util.Set.of(alice.address(), bob.address()), java.util.Set.copyOf(strings(info.path("members"))),
        info.toString());
    assertEquals(2, info.path("members").size(), info.toString());
    assertEquals(List.of(alice.address()), strings(info.path("admins")));
    assertEquals(7, info.path("seq").asLong());
  }
}
