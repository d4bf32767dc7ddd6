package org.esmp.client.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.esmp.client.FakeServer;
import org.esmp.client.Messages;
import org.esmp.client.SigningKey;

/**
 * A {@link FakeServer} script answering as a real server would in a small fixed world: Bob and
 * Carol exist, {@code nobody#example.com} does not; group {@link #GROUP} has a thread of seven
 * entries; a sync delivers one direct and one group message. Group traffic gets the next
 * {@code seq}, starting at 1 with the first group message of the connection.
 */
final class SmallServer implements FakeServer.Script {

  static final String GROUP = "0f8f2d3e-5b6a-4c1d-9e8f-7a6b5c4d3e2f";
  static final SigningKey BOB = SigningKey.generate();
  static final SigningKey CAROL = SigningKey.generate();
  static final SigningKey DAVE = SigningKey.generate();
  private static final Set<String> EXISTING =
      Set.of("alice#example.com", "bob#example.com", "carol#example.com", "dave#example.com");

  /** Whether {@code auth} registers the address (else it was registered before). */
  boolean registers = true;
  /** Every {@code deliver} frame and history entry sent, in order. */
  final List<ObjectNode> sent = new CopyOnWriteArrayList<>();
  private final AtomicLong seq = new AtomicLong();

  @Override
  public void onFrame(FakeServer.Conn conn, ObjectNode frame) throws IOException {
    ObjectNode answer = FakeServer.JSON.createObjectNode();
    String re = FakeServer.idOf(frame);
    ObjectNode body = (ObjectNode) frame.path("body");
    switch (frame.path("type").asText()) {
      case "auth" -> answer.put("type", "ack").put("re", re).put("duplicate", false)
          .put("address", body.path("address").asText()).put("registered", registers);
      case "lookup" -> {
        String address = body.path("address").asText();
        answer.put("type", "keys").put("re", re).put("address", address);
        ArrayNode keys = answer.putArray("keys");
        if (address.equals("bob#example.com")) {
          keys.add(BOB.publicKeyBase64());
        }
      }
      case "sync" -> {
        ObjectNode direct = FakeServer.deliver(1, "bob#example.com",
            FakeServer.text(BOB, "alice#example.com", "hello", 1));
        sent.add(direct);
        conn.send(direct);
        ObjectNode post = FakeServer.deliver(2, "bob#example.com",
            signed(BOB, "text", body().put("text", "noon?"), 2));
        post.put("group_id", GROUP).put("seq", 4);
        sent.add(post);
        conn.send(post);
        answer.put("type", "synced").put("re", re).put("cursor", 2);
      }
      case "history" -> {
        answer.put("type", "history").put("re", re).put("group_id", GROUP);
        ArrayNode entries = answer.putArray("entries");
        for (int s = 7; s >= 1; s--) {
          ObjectNode entry = historyEntry(s);
          sent.add(entry);
          entries.add(entry);
        }
        answer.put("more", false);
      }
      case "group_info" -> {
        answer.put("type", "group").put("re", re).put("group_id", GROUP).put("name", "lunch")
            .put("policy", "invite");
        answer.putArray("members").add("bob#example.com").add("alice#example.com");
        answer.putArray("admins").add("bob#example.com");
        answer.put("seq", 7);
      }
      default -> {
        answer.put("type", "ack").put("re", re).put("duplicate", false);
        if (frame.hasNonNull("group_id")) {
          answer.put("seq", seq.incrementAndGet());
        } else {
          ObjectNode rejected = FakeServer.JSON.createObjectNode();
          for (String field : new String[] {"to", "cc"}) {
            frame.path(field).forEach(a -> {
              if (!EXISTING.contains(a.asText())) {
                rejected.put(a.asText(), "unknown_recipient");
              }
            });
          }
          if (!rejected.isEmpty()) {
            answer.set("rejected", rejected);
          }
        }
      }
    }
    conn.send(answer);
  }

  /** Entry {@code s} of the thread: every kind of system event, a text and another type. */
  private static ObjectNode historyEntry(int s) {
    record Entry(SigningKey key, String from, String type, ObjectNode body) {}
    Entry e = switch (s) {
      case 1 -> {
        ObjectNode created = body().put("name", "lunch").put("policy", "invite");
        created.putArray("members").add("carol#example.com");
        yield new Entry(BOB, "bob#example.com", "group_created", created);
      }
      case 2 -> new Entry(CAROL, "carol#example.com", "joined", body().put("member", "carol#example.com"));
      case 3 -> new Entry(BOB, "bob#example.com", "joined", body().put("member", "dave#example.com"));
      case 4 -> new Entry(BOB, "bob#example.com", "text", body().put("text", "noon?"));
      case 5 -> new Entry(DAVE, "dave#example.com", "left", body());
      case 6 -> new Entry(BOB, "bob#example.com", "removed", body().put("member", "carol#example.com"));
      default -> new Entry(BOB, "bob#example.com", "reaction", body().put("emoji", "👍").put("to_seq", 4));
    };
    ObjectNode message = signed(e.key(), e.type(), e.body(), s);
    ObjectNode entry = FakeServer.JSON.createObjectNode();
    entry.put("id", FakeServer.idOf(message)).put("from", e.from())
        .put("received_at", 1764000000000L + s).put("group_id", GROUP).put("seq", s);
    entry.set("message", message);
    return entry;
  }

  private static ObjectNode body() {
    return FakeServer.JSON.createObjectNode();
  }

  /** A group message of {@link #GROUP}, signed by {@code key}. */
  private static ObjectNode signed(SigningKey key, String type, ObjectNode body, long ts) {
    ObjectNode m = FakeServer.JSON.createObjectNode();
    m.put("type", type);
    m.putArray("to");
    m.put("group_id", GROUP);
    m.set("body", body);
    m.put("ts", ts);
    return Messages.sign(m, key).frame();
  }
}
