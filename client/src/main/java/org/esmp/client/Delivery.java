package org.esmp.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One entry of a mailbox ({@code deliver} frame) or of a group's history, after its signature
 * was checked.
 *
 * @param cursor its place in the mailbox; null for history entries and ephemeral deliveries
 * @param id the message id (checked: it is the id of {@code message})
 * @param from the sender's address, as the server names it
 * @param receivedAt when the server accepted it, ms since the epoch
 * @param groupId the group, or null for a direct message
 * @param seq its place in the group's thread, or null
 * @param message the signed message, every field as received
 * @param frame the whole frame (or history entry) as received
 */
public record Delivery(Long cursor, String id, String from, long receivedAt, String groupId,
    Long seq, ObjectNode message, ObjectNode frame) {

  /** The message's {@code type}, e.g. {@code text} or {@code group_created}. */
  public String type() {
    return message.path("type").asText();
  }

  /** The message's {@code body}. */
  public JsonNode body() {
    return message.path("body");
  }

  /** The {@code text} member of the body when it is a string (as in {@code text} messages), else null. */
  public String text() {
    JsonNode text = body().get("text");
    return text != null && text.isTextual() ? text.textValue() : null;
  }

  /**
   * Reads a {@code deliver} frame or a history entry and checks it: its message's signature
   * verifies under its own {@code sender_pubkey}, the message's id is the frame's {@code id}, a
   * signed {@code from} is the frame's {@code from}, and a group message is of the frame's group.
   *
   * @throws InvalidMessageException if any of that fails; it carries what was received
   */
  public static Delivery verified(JsonNode frame) throws InvalidMessageException {
    if (frame == null || !frame.isObject()) {
      throw new InvalidMessageException("delivery is not an object");
    }
    JsonNode message = frame.get("message");
    Delivery claimed = new Delivery(
        frame.hasNonNull("cursor") ? frame.get("cursor").asLong() : null,
        frame.path("id").asText(null),
        frame.path("from").asText(null),
        frame.path("received_at").asLong(0),
        frame.path("group_id").asText(null),
        frame.hasNonNull("seq") ? frame.get("seq").asLong() : null,
        message != null && message.isObject() ? (ObjectNode) message : null,
        (ObjectNode) frame);
    String why = null;
    if (claimed.message == null) {
      why = "no signed message";
    } else if (claimed.id == null || claimed.from == null) {
      why = "no id or from";
    } else {
      try {
        String id = Messages.verify(message);
        if (!id.equals(claimed.id)) {
          why = "id " + claimed.id + " is not the message's id " + id;
        } else if (message.has("from") && !claimed.from.equals(message.path("from").asText())) {
          why = "signed from " + message.get("from") + " is not " + claimed.from;
        } else if (claimed.groupId != null
            && !claimed.groupId.equals(message.path("group_id").asText(null))) {
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
