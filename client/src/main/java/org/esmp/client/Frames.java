package org.esmp.client;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The client's one use of Jackson for frames, kept inside the package: reading frames strictly
 * (a duplicate member is an error, as on the server), building unsigned messages, and writing
 * trees as the compact JSON text that the public API hands out instead of Jackson trees.
 * Stateless and thread-safe.
 */
final class Frames {

  static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build());

  /** For JSON text given by the caller: nothing may follow the value. */
  private static final ObjectReader ONE_VALUE =
      JSON.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

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

  /**
   * {@code value} as compact JSON: {@link Jcs#compact} (members in their order, RFC 8785 escapes
   * and numbers), or, for a value that is not I-JSON (which Jcs refuses), as Jackson writes it,
   * so that what a server sent is never lost.
   */
  static String compact(JsonNode value) {
    try {
      return new String(Jcs.compact(value), UTF_8);
    } catch (IllegalArgumentException notIJson) {
      return value.toString();
    }
  }

  /**
   * {@code json} read as one JSON object.
   *
   * @throws IllegalArgumentException if it is not JSON, not one object (alone), or repeats a member
   */
  static ObjectNode parseObject(String json) {
    JsonNode node;
    try {
      node = ONE_VALUE.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage(), e);
    }
    if (node == null || !node.isObject()) {
      throw new IllegalArgumentException("not a JSON object: " + json);
    }
    return (ObjectNode) node;
  }
}
