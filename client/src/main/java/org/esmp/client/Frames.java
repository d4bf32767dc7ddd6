package org.esmp.client;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The client's one use of Jackson for frames, kept inside the package: reading frames strictly
 * (a duplicate member is an error, as on the server) and building unsigned messages. Stateless
 * and thread-safe.
 */
final class Frames {

  static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build());

  private Frames() {}

  /** A new message of {@code type} with an empty {@code to}, unsigned. */
  static ObjectNode newMessage(String type) {
    ObjectNode message = JSON.createObjectNode();
    message.put("type", type);
    message.putArray("to");
    return message;
  }

  /** A new group message of {@code type} for {@code groupId}, unsigned. */
  static ObjectNode newGroupMessage(String type, String groupId) {
    ObjectNode message = newMessage(type);
    message.put("group_id", groupId);
    return message;
  }

  /** Appends each of {@code addresses}, checked ({@link Addresses#check}). */
  static void addresses(ArrayNode into, Collection<String> addresses) {
    for (String a : addresses) {
      into.add(Addresses.check(a));
    }
  }

  /** The text values of a JSON array, immutable; empty for a missing one. */
  static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(v -> out.add(v.asText()));
    return List.copyOf(out);
  }
}
