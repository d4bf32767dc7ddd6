package org.esmp.client;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One entry of a mailbox ({@code deliver} frame) or of a group's history, after its signature
 * was checked. JSON is given as compact text (members in the order received); immutable.
 *
 * @param cursor its place in the mailbox; null for history entries and ephemeral deliveries
 * @param id the message id (checked: it is the id of {@code message})
 * @param from the sender's address, as the server names it
 * @param receivedAt when the server accepted it, ms since the epoch
 * @param groupId the group, or null for a direct message
 * @param seq its place in the group's thread, or null
 * @param type the message's {@code type}, e.g. {@code text} or {@code group_created}
 * @param text the {@code text} member of the message's body when it is a string (as in {@code
 *     text} messages), else null
 * @param message the signed message, every field as received, as JSON
 * @param frame the whole frame (or history entry) as received, as JSON
 */
public record Delivery(Long cursor, String id, String from, long receivedAt, String groupId,
    Long seq, String type, String text, String message, String frame) {

  /** The message's {@code body} as JSON, or null if it has none. */
  public String body() {
    if (message == null) {
      return null;
    }
    JsonNode body = Frames.parseObject(message).get("body");
    return body == null ? null : Frames.compact(body);
  }

  /**
   * Reads a {@code deliver} frame or a history entry, given as JSON, and checks it as {@link
   * EsmpClient} does every delivery: see {@link #verified(JsonNode)}.
   *
   * @throws InvalidMessageException if it is not a JSON object or does not verify
   */
  public static Delivery verified(String frameJson) throws InvalidMessageException {
    JsonNode frame;
    try {
      frame = Frames.JSON.readTree(frameJson);
    } catch (JsonProcessingException e) {
      throw new InvalidMessageException("delivery is not JSON: " + e.getOriginalMessage());
    }
    return verified(frame);
  }

  /**
   * Reads a {@code deliver} frame or a history entry and checks it: its message's signature
   * verifies under its own {@code sender_pubkey}, the message's id is the frame's {@code id}, a
   * signed {@code from} is the frame's {@code from}, and a group message is of the frame's group.
   *
   * @throws InvalidMessageException if any of that fails; it carries what was received
   */
  static Delivery verified(JsonNode frame) throws InvalidMessageException {
    if (frame == null || !frame.isObject()) {
      throw new InvalidMessageException("delivery is not an object");
    }
    JsonNode message = frame.get("message");
    ObjectNode signed = message != null && message.isObject() ? (ObjectNode) message : null;
    JsonNode text = signed == null ? null : signed.path("body").get("text");
    Delivery claimed = new Delivery(
        frame.hasNonNull("cursor") ? frame.get("cursor").asLong() : null,
        frame.path("id").asText(null),
        frame.path("from").asText(null),
        frame.path("received_at").asLong(0),
        frame.path("group_id").asText(null),
        frame.hasNonNull("seq") ? frame.get("seq").asLong() : null,
        signed == null ? null : signed.path("type").asText(),
        text != null && text.isTextual() ? text.textValue() : null,
        signed == null ? null : Frames.compact(signed),
        Frames.compact(frame));
    String why = null;
    if (signed == null) {
      why = "no signed message";
    } else if (claimed.id == null || claimed.from == null) {
      why = "no id or from";
    } else {
      try {
        String id = Messages.verify(signed);
        if (!id.equals(claimed.id)) {
          why = "id " + claimed.id + " is not the message's id " + id;
        } else if (signed.has("from") && !claimed.from.equals(signed.path("from").asText())) {
          why = "signed from " + signed.get("from") + " is not " + claimed.from;
        } else if (claimed.groupId != null
            && !claimed.groupId.equals(signed.path("group_id").asText(null))) {
          why = "message is not of group " + claimed.groupId;
        }
      } catch (InvalidMessageException e) {
        why = e.getMessage();
      }
    }
    if (why != null) {
      throw new InvalidMessageException("refused "
          + (claimed.cursor != null ? "delivery " + claimed.cursor : "message")
          + (claimed.from != null ? " from " + claimed.from : "")
          + (claimed.id != null ? " (id " + claimed.id + ")" : "") + ": " + why, claimed);
    }
    return claimed;
  }
}
