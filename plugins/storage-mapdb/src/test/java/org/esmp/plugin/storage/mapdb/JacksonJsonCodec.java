package org.esmp.plugin.storage.mapdb;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.Map;
import org.esmp.api.JsonCodec;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonBoolean;
import org.esmp.api.json.JsonNull;
import org.esmp.api.json.JsonNumber;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonString;
import org.esmp.api.json.JsonValue;

/** The server's codec stands in for tests: Jackson's tree, converted. Not canonical. */
final class JacksonJsonCodec implements JsonCodec {

  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  @Override
  public byte[] write(JsonValue value) {
    try {
      return MAPPER.writeValueAsBytes(toNode(value));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public byte[] canonical(JsonValue value) {
    throw new UnsupportedOperationException("not needed by storage");
  }

  @Override
  public JsonObject parseObject(byte[] utf8) {
    try {
      JsonNode node = MAPPER.readTree(utf8);
      if (node == null || !node.isObject()) {
        throw new IllegalArgumentException("not a JSON object");
      }
      return (JsonObject) fromNode(node);
    } catch (IOException e) {
      throw new IllegalArgumentException("bad JSON", e);
    }
  }

  private static JsonNode toNode(JsonValue value) {
    if (value instanceof JsonObject o) {
      ObjectNode node = NODES.objectNode();
      o.members().forEach((name, member) -> node.set(name, toNode(member)));
      return node;
    } else if (value instanceof JsonArray a) {
      ArrayNode node = NODES.arrayNode();
      a.items().forEach(item -> node.add(toNode(item)));
      return node;
    } else if (value instanceof JsonString s) {
      return NODES.textNode(s.value());
    } else if (value instanceof JsonNumber n) {
      return n.isSafeInteger() ? NODES.numberNode(n.longValue()) : NODES.numberNode(n.value());
    } else if (value instanceof JsonBoolean b) {
      return NODES.booleanNode(b.value());
    }
    return NODES.nullNode();
  }

  private static JsonValue fromNode(JsonNode node) {
    if (node.isObject()) {
      JsonObject.Builder builder = JsonObject.builder();
      for (Map.Entry<String, JsonNode> e : node.properties()) {
        builder.put(e.getKey(), fromNode(e.getValue()));
      }
      return builder.build();
    } else if (node.isArray()) {
      JsonArray.Builder builder = JsonArray.builder();
      node.forEach(item -> builder.add(fromNode(item)));
      return builder.build();
    } else if (node.isTextual()) {
      return new JsonString(node.textValue());
    } else if (node.isNumber()) {
      return new JsonNumber(node.doubleValue());
    } else if (node.isBoolean()) {
      return JsonBoolean.of(node.booleanValue());
    }
    return JsonNull.INSTANCE;
  }
}
