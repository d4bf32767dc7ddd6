package org.esmp.jcs;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** Drives a {@link CanonicalJsonWriter} from a Jackson tree, as the client does, for the vectors. */
final class JacksonTrees {

  private JacksonTrees() {}

  /** The canonical bytes of {@code node}, leaving out the top-level members named in {@code skip}. */
  static byte[] canonical(JsonNode node, String... skip) {
    CanonicalJsonWriter out = new CanonicalJsonWriter();
    value(out, node, skip);
    return out.toByteArray();
  }

  private static void value(CanonicalJsonWriter out, JsonNode node, String... skip) {
    switch (node.getNodeType()) {
      case OBJECT -> {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        String[] order = names.toArray(new String[0]);
        out.beginObject();
        for (int i = 0, n = CanonicalJsonWriter.sortMembers(order, skip); i < n; i++) {
          out.name(order[i]);
          value(out, node.get(order[i]));
        }
        out.endObject();
      }
      case ARRAY -> {
        out.beginArray();
        for (JsonNode item : node) {
          value(out, item);
        }
        out.endArray();
      }
      case STRING -> out.string(node.textValue());
      case NUMBER -> {
        if (node.isIntegralNumber()) {
          out.number(node.longValue());
        } else {
          out.number(node.doubleValue());
        }
      }
      case BOOLEAN -> out.bool(node.booleanValue());
      case NULL -> out.nullValue();
      default -> throw new IllegalArgumentException("not a JSON value: " + node.getNodeType());
    }
  }
}
