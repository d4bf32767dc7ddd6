package org.esmp.server;

import static org.esmp.server.testing.Frames.assertAck;
import static org.esmp.server.testing.Frames.now;
import static org.esmp.server.testing.Frames.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;
import org.esmp.server.testing.ClusterDatabase;
import org.esmp.server.testing.TestServers;
import org.esmp.server.testing.TestUser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A message to many recipients is stored once, against the real server and its bundled plugins on
 * disk: the commit of a large message sent to 100 recipients, or posted to a group of 100, writes
 * about one copy of it to the storage's journal, not 100 copies; and after a restart every recipient still reads the
 * whole message through its reference, by {@code sync} and, in the group, by {@code history}. On
 * storage-postgres ({@code -Desmp.it.storage=postgres}) the same bound holds for the bytes the
 * commit added to the database's rows of entries and messages.
 */
class StoreOnceIT {

  private static final int RECIPIENTS = 100;
  /** The text of each message: large, so that 100 copies could not hide in the store's slack. */
  private static final int TEXT_CHARS = 40_000;

  @TempDir Path data;

  private static String bigText(String name) {
    return name + " " + "y".repeat(TEXT_CHARS);
  }

  /**
   * Bytes of the storage's journal files: what the storage wrote to disk for its commits since its
   * last checkpoint. The journal is never preallocated (unlike the store file, which grows in large
   * steps), so its growth over one commit is that commit's record: every byte the commit wrote.
   * On storage-postgres: the bytes of every stored entry, message and plugin value in the database
   * (uncompressed: PostgreSQL compresses large values, which would hide 100 copies of one text).
   */
  private long journalBytes() throws Exception {
    if (ClusterDatabase.enabled()) {
      try (Connection connection = DriverManager.getConnection(ClusterDatabase.jdbcUrl(data));
          ResultSet sum = connection.createStatement().executeQuery(
              "SELECT (SELECT coalesce(sum(octet_length(entry)), 0) FROM messages)"
                  + " + (SELECT coalesce(sum(octet_length(entry)), 0) FROM mailbox_entries)"
                  + " + (SELECT coalesce(sum(coalesce(octet_length(value), 0) + coalesce(octet_length(entry), 0)), 0)"
                  + " FROM key_values)")) {
        sum.next();
        return sum.getLong(1);
      }
    }
    try (Stream<Path> files = Files.walk(data)) {
      return files.filter(Files::isRegularFile).filter(f -> f.getFileName().toString().contains(".journal"))
          .mapToLong(f -> f.toFile().length()).sum();
    }
  }

  /**
   * Checks that one commit of a {@value #TEXT_CHARS}-char message wrote about one copy of it to the
   * journal (with its references and index pages), far from a copy per recipient: 100 copies are
   * over 4 MB.
   */
  private static void assertAboutOneCopy(long journalBytes, String what) {
    System.out.println("StoreOnceIT: a " + TEXT_CHARS + "-char " + what + " wrote " + journalBytes + " bytes to "
        + (ClusterDatabase.enabled() ? "the database's entries and messages" : "the journal"));
    assertTrue(journalBytes > TEXT_CHARS, "the journal holds the message: " + journalBytes + " bytes");
    assertTrue(journalBytes < 5L * TEXT_CHARS, "the commit of a " + TEXT_CHARS + "-char " + what + " wrote "
        + journalBytes + " bytes: far more than a copy and its references");
  }

  /** Registers {@code count} users and closes their connections. */
  private static List<TestUser> register(int port, String name, int count) throws Exception {
    List<TestUser> users = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      TestUser user = TestUser.register(port, name);
      user.client().close();
      users.add(user);
    }
    return users;
  }

  @Test
  void aDirectMessageToAHundredRecipientsIsStoredOnceAndEachReadsItAfterARestart() throws Exception {
    List<TestUser> recipients;
    TestUser sender;
    try (EsmpServer server = TestServers.start(data)) {
      sender = TestUser.register(server.port(), "sender");
      recipients = register(server.port(), "r", RECIPIENTS);
      sender.client().close();
    }
    String words = bigText("to a hundred");
    long grown;
    try (EsmpServer server = TestServers.start(data)) {
      TestUser again = sender.reconnect(server.port());
      long before = journalBytes();
      assertAck(again.send(text(words, recipients.stream().map(TestUser::address).toArray(String[]::new))));
      grown = journalBytes() - before;
      again.client().close();
    }
    assertAboutOneCopy(grown, "text to " + RECIPIENTS + " recipients");
    try (EsmpServer server = TestServers.start(data)) {
      for (TestUser recipient : recipients) {
        TestUser reader = recipient.reconnect(server.port());
        List<JsonNode> synced = reader.syncAll(0);
        assertEquals(2, synced.size(), recipient.address() + ": the message, then synced");
        assertEquals(words, synced.get(0).path("message").path("body").path("text").asText(), recipient.address());
        assertEquals(sender.address(), synced.get(0).path("from").asText());
        reader.client().close();
      }
    }
  }

  @Test
  void aGroupPostIsStoredOnceForTheThreadAndAHundredMembers() throws Exception {
    List<TestUser> members;
    TestUser admin;
    String group = "store-once-" + System.nanoTime();
    try (EsmpServer server = TestServers.start(data)) {
      admin = TestUser.register(server.port(), "admin");
      members = register(server.port(), "m", RECIPIENTS - 1);
      assertAck(admin.send(groupMessage("group_created", group, JsonObject.builder()
          .put("members", JsonArray.ofStrings(members.stream().map(TestUser::address).toList())).build())));
      admin.client().close();
    }
    String words = bigText("to the group");
    long seq;
    long grown;
    try (EsmpServer server = TestServers.start(data)) {
      TestUser again = admin.reconnect(server.port());
      long before = journalBytes();
      seq = assertAck(again.send(groupMessage("text", group, JsonObject.builder().put("text", words).build())))
          .path("seq").asLong();
      grown = journalBytes() - before;
      again.client().close();
    }
    assertAboutOneCopy(grown, "post to " + RECIPIENTS + " members");
    try (EsmpServer server = TestServers.start(data)) {
      TestUser reader = members.get(RECIPIENTS / 2).reconnect(server.port());
      JsonNode history = reader.send(groupMessage("history", group, JsonObject.builder().put("limit", 1).build()));
      assertEquals("history", history.path("type").asText(), history.toString());
      JsonNode entry = history.path("entries").get(0);
      assertEquals(seq, entry.path("seq").asLong());
      assertEquals(words, entry.path("message").path("body").path("text").asText());
      List<JsonNode> synced = reader.syncAll(0);
      JsonNode post = synced.get(synced.size() - 2);
      assertEquals(seq, post.path("seq").asLong());
      assertEquals(words, post.path("message").path("body").path("text").asText());
      reader.client().close();
    }
  }

  private static JsonObject groupMessage(String type, String group, JsonObject body) {
    return JsonObject.builder().put("type", type).put("to", JsonArray.of()).put("group_id", group)
        .put("body", body).put("ts", now()).build();
  }
}
