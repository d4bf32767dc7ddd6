package org.esmp.client.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Jackson trees for {@code --json} output and for reading what the client gives as JSON text. */
final class JsonOut {

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private JsonOut() {}

  static ObjectNode object() {
    return MAPPER.createObjectNode();
  }

  /** {@code json} as a tree; a missing node for null. */
  static JsonNode read(String json) {
    if (json == null) {
      return MissingNode.getInstance();
    }
    try {
      return MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not JSON: " + json, e);
    }
  }
}
