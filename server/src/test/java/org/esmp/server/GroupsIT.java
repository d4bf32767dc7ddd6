package org.esmp.server;

import static org.esmp.server.testing.Frames.assertAck;
import static org.esmp.server.testing.Frames.assertError;
import static org.esmp.server.testing.Frames.authenticate;
import static org.esmp.server.testing.Frames.now;
import static org.esmp.server.testing.Frames.sync;
import static org.esmp.server.testing.Frames.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;
import org.esmp.server.testing.TestClient;
import org.esmp.server.testing.TestIdentity;
import org.esmp.server.testing.SharedServerTest;
import org.esmp.server.testing.TestServers;
import org.esmp.server.testing.TestUser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Groups and system events over TCP against the real server, with the group-threads and
 * system-events plugin jars loaded by PF4J.
 */
class GroupsIT extends SharedServerTest {


  private static TestUser user(String name) throws Exception {
    return TestUser.register(server.port(), name);
  }

  private static String newGroup() {
    return UUID.randomUUID().toString();
  }

  private static JsonObject event(String type, String group, JsonObject body) {
    return JsonObject.builder().put("type", type).put("to", JsonArray.of()).put("group_id", group)
        .put("body", body).put("ts", now()).build();
  }

  private static JsonObject create(String group, String policy, String... members) {
    return event("group_created", group, JsonObject.builder().put("name", "team")
        .put("members", JsonArray.ofStrings(List.of(members))).put("policy", policy).build());
  }

  private static JsonObject member(String type, String group, String who) {
    return event(type, group, who == null ? JsonObject.empty() : JsonObject.builder().put("member", who).build());
  }

  private static JsonObject post(String group, String text) {
    return JsonObject.builder().put("type", "text").put("to", JsonArray.of()).put("group_id", group)
        .put("body", JsonObject.builder().put("text", text).build()).put("ts", now()).build();
  }

  private static JsonObject info(String group) {
    return event("group_info", group, JsonObject.empty());
  }

  private static JsonObject history(String group, Long before, Integer limit) {
    JsonObject.Builder body = JsonObject.builder();
    if (before != null) {
      body.put("before", before);
    }
    if (limit != null) {
      body.put("limit", limit);
    }
    return event("history", group, body.build());
  }

  private static List<String> strings(JsonNode array) {
    List<String> list = new ArrayList<>();
    array.forEach(item -> list.add(item.asText()));
    return list;
  }

  /** The deliveries after syncing from {@code since}, without the synced answer. */
  private static List<JsonNode> syncAll(TestUser user, long since) throws Exception {
    List<JsonNode> frames = user.syncAll(since);
    assertEquals("synced", frames.get(frames.size() - 1).path("type").asText());
    return frames.subList(0, frames.size() - 1);
  }

  @Test
  void createsAGroupWithMembersWhoAllReceiveItsThread() throws Exception {
    TestUser ann = user("ann");
    TestUser ben = user("ben");
    String group = newGroup();
    assertEquals(1, assertAck(ann.send(create(group, "invite", ben.address()))).path("seq").asLong());
    assertEquals(2, assertAck(ben.send(post(group, "hi all"))).path("seq").asLong());

    List<JsonNode> annSees = syncAll(ann, 0);
    assertEquals(List.of("group_created", "text"),
        annSees.stream().map(f -> f.path("message").path("type").asText()).toList());
    assertEquals(group, annSees.get(1).path("group_id").asText());
    assertEquals(2, annSees.get(1).path("seq").asLong());
    assertEquals(ben.address(), annSees.get(1).path("from").asText());
    assertEquals(2, syncAll(ben, 0).size());

    JsonNode state = ann.send(info(group));
    assertEquals("group", state.path("type").asText(), state.toString());
    assertEquals("team", state.path("name").asText());
    assertEquals("invite", state.path("policy").asText());
    assertEquals(List.of(ann.address(), ben.address()), strings(state.path("members")));
    assertEquals(List.of(ann.address()), strings(state.path("admins")));
    assertEquals(2, state.path("seq").asLong());

    assertError(ann.send(create(group, "invite")), "group_exists");
    assertError(ann.send(create(newGroup(), "invite", "ghost#example.com")), "unknown_recipient");
  }

  @Test
  void joinsOpenGroupsButNotInviteOnlyOnes() throws Exception {
    TestUser cat = user("cat");
    TestUser dan = user("dan");
    String open = newGroup();
    String invite = newGroup();
    assertAck(cat.send(create(open, "open")));
    assertAck(cat.send(create(invite, "invite")));
    assertAck(dan.send(member("joined", open, null)));
    assertError(dan.send(member("joined", invite, null)), "forbidden");
    assertError(dan.send(member("joined", invite, dan.address())), "forbidden");
    assertError(dan.send(post(invite, "let me in")), "not_member");
    // An admin adds anyone; adding a member twice is bad_field.
    assertAck(cat.send(member("joined", invite, dan.address())));
    assertError(cat.send(member("joined", invite, dan.address())), "bad_field");
    assertAck(dan.send(post(invite, "thanks")));
  }

  @Test
  void onlyAdminsRemoveAndTheRemovedMemberIsToldThenShutOut() throws Exception {
    TestUser eve = user("eve");
    TestUser fay = user("fay");
    TestUser gus = user("gus");
    String group = newGroup();
    assertAck(eve.send(create(group, "invite", fay.address(), gus.address())));
    assertError(fay.send(member("removed", group, gus.address())), "forbidden");
    assertError(eve.send(member("removed", group, eve.address())), "bad_field");
    assertError(eve.send(member("removed", group, "nobody#example.com")), "bad_field");
    long removedAt = assertAck(eve.send(member("removed", group, gus.address()))).path("seq").asLong();

    List<JsonNode> gusSees = syncAll(gus, 0);
    JsonNode last = gusSees.get(gusSees.size() - 1);
    assertEquals("removed", last.path("message").path("type").asText(), "the removed member is told");
    assertEquals(removedAt, last.path("seq").asLong());
    assertError(gus.send(post(group, "still here?")), "not_member");
    assertError(gus.send(history(group, null, null)), "not_member");
    assertError(gus.send(info(group)), "not_member");
    assertError(gus.send(member("left", group, null)), "not_member");
  }

  @Test
  void theLongestStandingMemberBecomesAdminWhenTheLastAdminLeaves() throws Exception {
    TestUser hal = user("hal");
    TestUser ivy = user("ivy");
    TestUser jon = user("jon");
    String group = newGroup();
    assertAck(hal.send(create(group, "invite", ivy.address(), jon.address())));
    assertAck(hal.send(member("left", group, null)));
    JsonNode state = ivy.send(info(group));
    assertEquals(List.of(ivy.address(), jon.address()), strings(state.path("members")));
    assertEquals(List.of(ivy.address()), strings(state.path("admins")));
    assertAck(ivy.send(member("removed", group, jon.address())));
    assertEquals("left", syncAll(hal, 0).stream().reduce((a, b) -> b).orElseThrow().path("message").path("type").asText(),
        "who left is told too");
  }

  @Test
  void refusesEventsForUnknownGroups() throws Exception {
    TestUser kai = user("kai");
    String nowhere = newGroup();
    assertError(kai.send(member("joined", nowhere, null)), "no_such_group");
    assertError(kai.send(member("left", nowhere, null)), "no_such_group");
    assertError(kai.send(member("removed", nowhere, kai.address())), "no_such_group");
    assertError(kai.send(post(nowhere, "hello?")), "no_such_group");
    assertError(kai.send(history(nowhere, null, null)), "no_such_group");
  }

  @Test
  void pagesHistoryNewestFirstAcross1200Entries() throws Exception {
    TestUser lea = user("lea");
    String group = newGroup();
    assertAck(lea.send(create(group, "invite")));
    StringBuilder burst = new StringBuilder();
    for (int i = 2; i <= 1201; i++) {
      burst.append(lea.key().frame(post(group, "m" + i))).append('\n');
    }
    lea.client().sendRaw(burst.toString().getBytes(StandardCharsets.UTF_8));
    for (int i = 2; i <= 1201; i++) {
      assertEquals(i, assertAck(lea.client().read()).path("seq").asLong());
    }
    JsonNode page = lea.send(history(group, null, null));
    assertEquals("history", page.path("type").asText(), page.toString());
    assertEquals(50, page.path("entries").size(), "limit defaults to 50");
    assertEquals(1201, page.path("entries").get(0).path("seq").asLong());
    assertTrue(page.path("more").asBoolean());

    List<Long> seen = new ArrayList<>();
    Long before = null;
    do {
      page = lea.send(history(group, before, 1000));
      assertTrue(page.path("entries").size() <= 500, "limit above 500 is taken as 500");
      for (JsonNode entry : page.path("entries")) {
        seen.add(entry.path("seq").asLong());
        assertEquals(group, entry.path("group_id").asText());
        assertTrue(entry.has("id") && entry.has("from") && entry.has("received_at") && entry.has("message"));
      }
      before = seen.get(seen.size() - 1);
    } while (page.path("more").asBoolean());
    List<Long> expected = new ArrayList<>();
    for (long seq = 1201; seq >= 1; seq--) {
      expected.add(seq);
    }
    assertEquals(expected, seen);
    assertEquals("m2", lea.send(history(group, 3L, 1)).path("entries").get(0).path("message").path("body")
        .path("text").asText());
  }

  @Test
  void concurrentPostersGetGaplessSeq() throws Exception {
    TestUser owner = user("mo");
    String group = newGroup();
    List<TestUser> posters = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      posters.add(user("poster"));
    }
    assertAck(owner.send(create(group, "invite", posters.stream().map(TestUser::address).toArray(String[]::new))));
    List<Long> seqs = Collections.synchronizedList(new ArrayList<>());
    List<Thread> threads = new ArrayList<>();
    for (TestUser poster : posters) {
      Thread thread = new Thread(() -> {
        try {
          StringBuilder burst = new StringBuilder();
          for (int i = 0; i < 100; i++) {
            burst.append(poster.key().frame(post(group, poster.address() + " " + i))).append('\n');
          }
          poster.client().sendRaw(burst.toString().getBytes(StandardCharsets.UTF_8));
          for (int i = 0; i < 100; i++) {
            seqs.add(assertAck(poster.client().read()).path("seq").asLong());
          }
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      threads.add(thread);
      thread.start();
    }
    for (Thread thread : threads) {
      thread.join(60_000);
    }
    List<Long> sorted = new ArrayList<>(seqs);
    Collections.sort(sorted);
    List<Long> expected = new ArrayList<>();
    for (long seq = 2; seq <= 401; seq++) {
      expected.add(seq);
    }
    assertEquals(expected, sorted, "seq 2..401, each once");
  }

  @Test
  void keepsGroupsAcrossARestart(@TempDir Path own) throws Exception {
    TestIdentity ned = TestIdentity.random();
    TestIdentity ola = TestIdentity.random();
    String group = newGroup();
    try (EsmpServer first = TestServers.start(own);
        TestClient n = new TestClient(first.port());
        TestClient o = new TestClient(first.port())) {
      authenticate(n, ned, "ned#example.com");
      authenticate(o, ola, "ola#example.com");
      assertAck(n.call(ned.frame(create(group, "invite", "ola#example.com"))));
      assertAck(o.call(ola.frame(post(group, "before"))));
    }
    try (EsmpServer second = TestServers.start(own); TestClient o = new TestClient(second.port())) {
      authenticate(o, ola, "ola#example.com");
      assertEquals(3, assertAck(o.call(ola.frame(post(group, "after")))).path("seq").asLong());
      JsonNode state = o.call(ola.frame(info(group)));
      assertEquals(List.of("ned#example.com", "ola#example.com"), strings(state.path("members")));
      assertEquals(3, o.call(ola.frame(history(group, null, null))).path("entries").size());
    }
  }

  @Test
  void withoutTheGroupPluginsDirectMessagesStillWork(@TempDir Path own, @TempDir Path plugins) throws Exception {
    try (var jars = Files.list(TestServers.pluginsDir())) {
      for (Path jar : jars.toList()) {
        String name = jar.getFileName().toString();
        if (!name.contains("group-threads") && !name.contains("system-events")) {
          Files.copy(jar, plugins.resolve(name));
        }
      }
    }
    try (EsmpServer bare = EsmpServer.start(TestServers.config(own).pluginsDir(plugins).build());
        TestClient p = new TestClient(bare.port());
        TestClient q = new TestClient(bare.port())) {
      TestIdentity pia = TestIdentity.random();
      TestIdentity quin = TestIdentity.random();
      authenticate(p, pia, "pia#example.com");
      authenticate(q, quin, "quin#example.com");
      assertAck(p.call(pia.frame(text("direct still works", "quin#example.com"))));
      String group = newGroup();
      for (String type : List.of("group_created", "joined", "left", "removed", "history", "group_info")) {
        assertError(p.call(pia.frame(event(type, group, JsonObject.empty()))), "unsupported_type");
      }
      assertError(p.call(pia.frame(post(group, "no groups here"))), "unsupported_type");
      assertFalse(syncAll(new TestUser("quin#example.com", quin, q), 0).isEmpty());
    }
  }

  /** A group is at most max_group_members large: creating or joining past it is forbidden. */
  @Test
  void aGroupCannotGrowPastMaxGroupMembers(@TempDir Path small) throws Exception {
    try (EsmpServer limited = EsmpServer.start(TestServers.config(small).maxGroupMembers(3).build())) {
      TestUser ann = TestUser.register(limited.port(), "ann");
      TestUser ben = TestUser.register(limited.port(), "ben");
      TestUser cid = TestUser.register(limited.port(), "cid");
      TestUser dot = TestUser.register(limited.port(), "dot");
      String tooBig = newGroup();
      assertError(ann.send(create(tooBig, "open", ben.address(), cid.address(), dot.address())), "forbidden");
      String open = newGroup();
      assertAck(ann.send(create(open, "open", ben.address())));
      assertAck(cid.send(member("joined", open, null)));
      assertError(dot.send(member("joined", open, null)), "forbidden");
      assertAck(cid.send(member("left", open, null)));
      assertAck(dot.send(member("joined", open, null)));
    }
  }
}
