package org.esmp.server;

import static org.esmp.server.testing.Frames.assertAck;
import static org.esmp.server.testing.Frames.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonValue;
import org.esmp.server.testing.ExamplePlugins;
import org.esmp.server.testing.Frames;
import org.esmp.server.testing.TestServers;
import org.esmp.server.testing.TestUser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The promise to plugin authors, end to end: the example {@code reaction} plugin, built from
 * {@code examples/reaction-plugin} against this build's API, dropped into the plugins directory of
 * a running server, used directly and in a group, and removed again; all on one connection that
 * stays open, without restarting the server.
 */
class HotDeployIT {

  /** The promise: a jar dropped in serves within this; so does a removal. */
  private static final long DEPLOY_WITHIN_MS = 5_000;

  @TempDir Path data;
  @TempDir Path plugins;
  @TempDir Path build;

  private static final String MESSAGE_ID = "f3233f9a2cfa9902f132acb89d71fbf4a0fd280b178e57e655249ba005698952";

  private static JsonObject reaction(JsonValue body, String... to) {
    return JsonObject.builder().put("type", "reaction").put("to", JsonArray.ofStrings(List.of(to)))
        .put("body", body).put("ts", Frames.now()).build();
  }

  private static JsonObject body(String emoji, String target) {
    return JsonObject.builder().put("emoji", emoji).put("target", target).build();
  }

  @Test
  void takesUpTheReactionPluginDroppedInAndDropsItWhenRemoved() throws Exception {
    Path jar = ExamplePlugins.reaction(build.resolve("esmp-reaction-plugin-1.0.0.jar"));
    try (DirectoryStream<Path> bundled = Files.newDirectoryStream(TestServers.pluginsDir(), "*.jar")) {
      for (Path plugin : bundled) {
        Files.copy(plugin, plugins.resolve(plugin.getFileName()));
      }
    }
    try (EsmpServer server = EsmpServer.start(TestServers.config(data).pluginsDir(plugins).build())) {
      TestUser alice = TestUser.register(server.port(), "alice");
      TestUser bob = TestUser.register(server.port(), "bob");
      assertError(alice.send(reaction(body("👍", MESSAGE_ID), bob.address())), "unsupported_type");

      // Dropped in with a plain copy, as an operator would: the watcher waits for it to settle.
      Path deployed = plugins.resolve(jar.getFileName());
      Files.copy(jar, deployed);
      long copied = System.currentTimeMillis();
      JsonNode answer = untilNot("unsupported_type", alice, () -> reaction(body("👍", MESSAGE_ID), bob.address()),
          copied);
      assertAck(answer);
      long servedAfter = System.currentTimeMillis() - copied;
      String reactionId = answer.path("re").asText();

      for (JsonValue bad : List.of(
          JsonObject.empty(),
          JsonArray.of(),
          body("", MESSAGE_ID),
          body("x".repeat(17), MESSAGE_ID),
          body("👍", MESSAGE_ID.toUpperCase()),
          body("👍", MESSAGE_ID.substring(2)),
          body("👍", MESSAGE_ID).toBuilder().put("extra", true).build(),
          JsonObject.builder().put("emoji", 7).put("target", MESSAGE_ID).build())) {
        assertError(alice.send(reaction(bad, bob.address())), "bad_field");
      }

      // Delivered like text: into bob's mailbox...
      List<JsonNode> synced = bob.syncAll(0);
      JsonNode delivered = synced.get(synced.size() - 2);
      assertEquals("deliver", delivered.path("type").asText(), synced.toString());
      assertEquals(reactionId, delivered.path("id").asText());
      assertEquals("👍", delivered.path("message").path("body").path("emoji").asText());
      // ...and into a group's thread, to every member.
      String group = UUID.randomUUID().toString();
      assertAck(alice.send(JsonObject.builder().put("type", "group_created").put("to", JsonArray.of())
          .put("group_id", group).put("body", JsonObject.builder()
              .put("members", JsonArray.ofStrings(List.of(bob.address()))).build())
          .put("ts", Frames.now()).build()));
      JsonObject inGroup = reaction(body("🎉", MESSAGE_ID)).toBuilder().put("group_id", group).build();
      assertEquals(2, assertAck(alice.send(inGroup)).path("seq").asLong());
      JsonNode pushed = bob.client().read();
      while (!pushed.path("message").path("type").asText().equals("reaction")) {
        pushed = bob.client().read(); // the group_created event comes first
      }
      assertEquals(group, pushed.path("group_id").asText());
      assertEquals("🎉", pushed.path("message").path("body").path("emoji").asText());

      Files.delete(deployed);
      long removed = System.currentTimeMillis();
      assertError(untilNot("ack", alice, () -> reaction(body("👍", MESSAGE_ID), bob.address()), removed),
          "unsupported_type");
      System.out.printf("HotDeployIT: reaction served %d ms after the jar was copied in, unsupported again %d ms after"
          + " it was deleted%n", servedAfter, System.currentTimeMillis() - removed);

      // The same connection, never dropped, still serves the other types.
      assertAck(alice.send(Frames.text("still here", bob.address())));
    }
  }

  /**
   * Sends a fresh message from {@code build} until the answer's type or code is no longer
   * {@code was}, for at most {@value #DEPLOY_WITHIN_MS} ms from {@code since}; the first other answer.
   */
  private static JsonNode untilNot(String was, TestUser user, java.util.function.Supplier<JsonObject> build,
      long since) throws Exception {
    while (true) {
      JsonNode answer = user.send(build.get());
      String what = answer.path("type").asText().equals("error") ? answer.path("code").asText() : answer.path("type").asText();
      if (!what.equals(was)) {
        return answer;
      }
      assertTrue(System.currentTimeMillis() - since < DEPLOY_WITHIN_MS,
          "still '" + was + "' " + DEPLOY_WITHIN_MS + " ms after the plugins directory changed");
      Thread.sleep(100);
    }
  }
}
