package org.esmp.server.federation;

import static org.esmp.server.testing.Frames.groupMessage;
import static org.esmp.server.testing.Frames.groupText;
import static org.esmp.server.federation.FederationFrames.ids;
import static org.esmp.server.federation.FederationFrames.strings;
import static org.esmp.server.federation.FederationFrames.verify;
import static org.esmp.server.testing.Frames.assertAck;
import static org.esmp.server.testing.Frames.assertError;
import static org.esmp.server.testing.Frames.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
 * the group's state through their own server, and a removed member stops receiving. Each test makes
 * its own group on the same three servers.
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

  /** A group of alice (a.example, the home), bob (b.example) and carol (c.example); its thread so far. */
  private record Trio(TestUser alice, TestUser bob, TestUser carol, String group, List<String> thread) {}

  /** Creates the group and waits until bob's and carol's servers have its first entry (they learn its home from it). */
  private static Trio createGroup() throws Exception {
    TestUser alice = a.register("alice");
    TestUser bob = b.register("bob");
    TestUser carol = c.register("carol");
    String group = UUID.randomUUID().toString();
    List<String> thread = new ArrayList<>();
    JsonNode created = alice.send(groupMessage("group_created", group, JsonObject.builder().put("name", "three servers")
        .put("members", JsonArray.ofStrings(List.of(bob.address(), carol.address()))).build()));
    assertEquals(1, seq(created), created.toString());
    thread.add(created.path("re").asText());
    assertEquals(seqs(thread), awaitThread(b, bob, group, 1));
    assertEquals(seqs(thread), awaitThread(c, carol, group, 1));
    return new Trio(alice, bob, carol, group, thread);
  }

  @Test
  void postsFromEachServerReachEveryMemberWithTheSameSeqs() throws Exception {
    Trio trio = createGroup();
    List<String> thread = trio.thread();
    JsonNode fromA = trio.alice().send(groupText(trio.group(), "from a"));
    assertEquals(2, seq(fromA), fromA.toString());
    thread.add(fromA.path("re").asText());
    JsonNode fromB = trio.bob().send(groupText(trio.group(), "from b"));
    assertEquals(3, seq(fromB), "bob's post, answered by the home through b.example: " + fromB);
    thread.add(fromB.path("re").asText());
    JsonNode fromC = trio.carol().send(groupText(trio.group(), "from c"));
    assertEquals(4, seq(fromC), fromC.toString());
    thread.add(fromC.path("re").asText());

    for (var member : List.of(Map.entry(a, trio.alice()), Map.entry(b, trio.bob()), Map.entry(c, trio.carol()))) {
      assertEquals(seqs(thread), awaitThread(member.getKey(), member.getValue(), trio.group(), 4),
          "the same thread, seq for seq, at " + member.getKey().domain());
    }
    List<JsonNode> bobs = b.mailbox(trio.bob());
    assertEquals(4, bobs.size(), bobs.toString());
    assertEquals(trio.carol().address(), bobs.get(3).path("from").asText());
    assertEquals(trio.carol().key().publicKey(), verify(bobs.get(3)), "carol's own signature reaches bob");
    assertEquals(trio.bob().address(), bobs.get(2).path("from").asText());
    assertEquals(List.of(), a.mailbox(trio.alice()).stream().filter(e -> !trio.group().equals(e.path("group_id").asText())).toList(),
        "no delivery_failed notice at the home");
  }

  @Test
  void aRemoteMemberReadsTheHistoryAndTheGroupThroughItsOwnServer() throws Exception {
    Trio trio = createGroup();
    List<String> thread = trio.thread();
    for (int i = 2; i <= 3; i++) {
      JsonNode post = trio.alice().send(groupText(trio.group(), "post " + i));
      assertEquals(i, seq(post), post.toString());
      thread.add(post.path("re").asText());
    }
    JsonNode fromB = trio.bob().send(groupText(trio.group(), "from b"));
    assertEquals(4, seq(fromB), "bob's post, answered by the home through b.example: " + fromB);
    thread.add(fromB.path("re").asText());

    // Newest first, from the home; in two pages.
    JsonNode page = trio.bob().send(groupMessage("history", trio.group(), JsonObject.builder().put("limit", 3).build()));
    assertEquals("history", page.path("type").asText(), page.toString());
    assertEquals(trio.group(), page.path("group_id").asText());
    assertEquals(true, page.path("more").asBoolean(), page.toString());
    List<JsonNode> entries = new ArrayList<>();
    page.path("entries").forEach(entries::add);
    JsonNode rest = trio.bob().send(groupMessage("history", trio.group(), JsonObject.builder().put("limit", 3)
        .put("before", entries.get(entries.size() - 1).path("seq").asLong()).build()));
    assertFalse(rest.path("more").asBoolean(), rest.toString());
    rest.path("entries").forEach(entries::add);
    assertEquals(List.of(4L, 3L, 2L, 1L), entries.stream().map(e -> e.path("seq").asLong()).toList());
    assertEquals(List.of(thread.get(3), thread.get(2), thread.get(1), thread.get(0)), ids(entries));
    entries.forEach(FederationFrames::verify);
    assertEquals(trio.bob().address(), entries.get(0).path("from").asText());

    JsonNode info = trio.carol().send(groupMessage("group_info", trio.group(), JsonObject.builder().build()));
    assertEquals("group", info.path("type").asText(), info.toString() + logs());
    assertEquals(Set.of(trio.alice().address(), trio.bob().address(), trio.carol().address()),
        Set.copyOf(strings(info.path("members"))), info.toString());
    assertEquals(3, info.path("members").size(), info.toString());
    assertEquals(List.of(trio.alice().address()), strings(info.path("admins")));
    assertEquals("three servers", info.path("name").asText());
    assertEquals(4, info.path("seq").asLong());
  }

  @Test
  void aRemovedRemoteMemberStopsReceiving() throws Exception {
    Trio trio = createGroup();
    List<String> thread = trio.thread();
    JsonNode before = trio.alice().send(groupText(trio.group(), "before the removal"));
    assertEquals(2, seq(before), before.toString());
    thread.add(before.path("re").asText());
    JsonNode removed = trio.alice().send(groupMessage("removed", trio.group(),
        JsonObject.builder().put("member", trio.carol().address()).build()));
    assertEquals(3, seq(removed), removed.toString());
    thread.add(removed.path("re").asText());
    assertEquals(seqs(thread), awaitThread(c, trio.carol(), trio.group(), 3), "carol is told she was removed");
    assertError(trio.carol().send(groupText(trio.group(), "still here?")), "not_member");
    assertError(trio.carol().send(groupMessage("history", trio.group(), JsonObject.builder().build())), "not_member");

    JsonNode after = trio.alice().send(groupText(trio.group(), "after the removal"));
    assertEquals(4, seq(after), after.toString());
    thread.add(after.path("re").asText());
    assertEquals(seqs(thread), awaitThread(a, trio.alice(), trio.group(), 4));
    assertEquals(seqs(thread), awaitThread(b, trio.bob(), trio.group(), 4));
    // A direct message to carol, sent after the post: once it is there, so would the post be.
    String marker = assertAck(trio.alice().send(text("after the group", trio.carol().address()))).path("re").asText();
    List<JsonNode> carols = Await.until("alice's direct message at carol", ARRIVAL, () -> c.mailbox(trio.carol()),
        box -> ids(box).contains(marker), FederationGroupsIT::logs);
    assertEquals(seqs(thread.subList(0, 3)), thread(carols, trio.group()), "nothing of the group after her removal");
    assertEquals(4, carols.size(), "three entries of the group and the direct message: " + carols);
  }

  @Test
  void aMembersMessageIsPeerUnavailableWhileTheHomeIsDownAndTheSameFrameGoesThroughLater() throws Exception {
    Trio trio = createGroup();
    String post = trio.bob().key().frame(groupText(trio.group(), "while the home is down"));
    a.stop();
    try {
      assertError(trio.bob().client().call(post), "peer_unavailable");
      assertError(trio.bob().send(groupMessage("history", trio.group(), JsonObject.builder().build())),
          "peer_unavailable");
    } finally {
      a.start();
    }
    // The same frame again, once the home serves: accepted once, with the next seq.
    JsonNode accepted = Await.until("the home to take bob's post again", ARRIVAL,
        () -> trio.bob().client().call(post), answer -> answer.path("type").asText().equals("ack"),
        FederationGroupsIT::logs);
    assertEquals(2, seq(accepted), accepted.toString());
    JsonNode again = trio.bob().client().call(post);
    assertEquals(2, again.path("seq").asLong(), again.toString());
    assertTrue(again.path("duplicate").asBoolean(), "a resend is a duplicate: " + again);
  }
}
