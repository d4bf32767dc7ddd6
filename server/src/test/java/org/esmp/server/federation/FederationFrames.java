package org.esmp.server.federation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;
import org.esmp.client.InvalidMessageException;
import org.esmp.client.Messages;
import org.esmp.server.testing.Frames;
import org.esmp.server.testing.TestClient;

/** The frames of federation tests (ESMP/1 section 8, federation-wire) and checks of what arrives. */
final class FederationFrames {

  private FederationFrames() {}

  /** A {@code lookup} of {@code address}. */
  static JsonObject lookup(String address) {
    return Frames.message("lookup", JsonObject.builder().put("address", address).build());
  }

  /** A server {@code auth} as {@code server}, answering {@code connection}'s challenge for its domain. */
  static JsonObject serverAuth(TestClient connection, String server) {
    return Frames.message("auth", JsonObject.builder().put("server", server)
        .put("challenge", connection.hello().path("challenge").asText())
        .put("domain", connection.hello().path("domain").asText()).build());
  }

  /**
   * A {@code relay} of the signed {@code message} from {@code from} to {@code to} (empty: a forward).
   * With an empty {@code body}, as the federation plugin sends it: the server requires one of every
   * signed frame (ESMP/1 section 2), though section 8 and the design show the relay without.
   */
  static JsonObject relay(List<String> to, String from, JsonObject message) {
    return JsonObject.builder().put("type", "relay").put("to", JsonArray.ofStrings(to)).put("from", from)
        .put("message", message).put("body", JsonObject.empty()).put("ts", Frames.now()).build();
  }

  /** The strings of an array member, e.g. an ack's {@code relayed}. */
  static List<String> strings(JsonNode array) {
    List<String> strings = new ArrayList<>();
    array.forEach(value -> strings.add(value.asText()));
    return strings;
  }

  /** The {@code id}s of {@code frames}, in order. */
  static List<String> ids(List<JsonNode> frames) {
    return frames.stream().map(frame -> frame.path("id").asText()).toList();
  }

  /** Asserts {@code answer} is a first-time ack that relays to exactly {@code relayed} and rejects nothing; its id. */
  static String assertRelayed(JsonNode answer, String... relayed) {
    Frames.assertAck(answer);
    assertFalse(answer.path("duplicate").asBoolean(), answer.toString());
    assertFalse(answer.has("rejected"), answer.toString());
    assertEquals(List.of(relayed), strings(answer.path("relayed")), answer.toString());
    return answer.path("re").asText();
  }

  /**
   * Checks a {@code deliver} frame (or history entry) as the recipient's client does: its message
   * verifies under its own {@code sender_pubkey}, and its id is the frame's; returns that key.
   */
  static String verify(JsonNode delivered) {
    try {
      assertEquals(delivered.path("id").asText(), Messages.verify(delivered.path("message")), "the frame's id is its message's");
    } catch (InvalidMessageException e) {
      throw new AssertionError("does not verify (" + e.getMessage() + "): " + delivered, e);
    }
    return delivered.path("message").path("sender_pubkey").asText();
  }
}
