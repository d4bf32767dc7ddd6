package org.esmp.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.esmp.jcs.CanonicalJsonWriter;

/**
 * Serializes Jackson trees as compact UTF-8 JSON in the RFC 8785 (JCS) style: a walk of the tree
 * that drives the project's one canonical writer, {@link CanonicalJsonWriter} (escaping, numbers
 * and member order live there, shared with the server, so both sign the same bytes).
 * {@link #canonical} sorts members by UTF-16 code units (the exact JCS bytes, which ESMP signs);
 * {@link #compact} keeps the tree's member order, for frames that read best with {@code type}
 * first. Stateless and thread-safe.
 */
public final class Jcs {

  /** 2^53 − 1: the largest integer every JSON implementation reads exactly (I-JSON). */
  public static final long MAX_SAFE_INTEGER = CanonicalJsonWriter.MAX_SAFE_INTEGER;

  private static final String[] NO_NAMES = {};

  private Jcs() {}

  /** The RFC 8785 canonical bytes of {@code value}. */
  public static byte[] canonical(JsonNode value) {
    return write(value, true, NO_NAMES);
  }

  /**
   * The RFC 8785 bytes of {@code object} as if its top-level members named in {@code skip} were
   * absent: with {@code signature} and {@code sender_pubkey}, the signing bytes of ESMP-1 §2.1.
   */
  public static byte[] canonicalWithout(JsonNode object, Set<String> skip) {
    return write(object, true, skip.toArray(NO_NAMES));
  }

  /** Compact JSON of {@code value}, members in the tree's order. */
  public static byte[] compact(JsonNode value) {
    return write(value, false, NO_NAMES);
  }

  private static byte[] write(JsonNode value, boolean sorted, String[] skipTopLevel) {
    CanonicalJsonWriter out = new CanonicalJsonWriter();
    value(out, value, sorted, skipTopLevel);
    return out.toByteArray();
  }

  private static void value(CanonicalJsonWriter out, JsonNode node, boolean sorted, String[] skip) {
    switch (node.getNodeType()) {
      case OBJECT -> object(out, node, sorted, skip);
      case ARRAY -> {
        out.beginArray();
        for (JsonNode item : node) {
          value(out, item, sorted, NO_NAMES);
        }
        out.endArray();
      }
      case STRING -> out.string(node.textValue());
      case NUMBER -> number(out, node);
      case BOOLEAN -> out.bool(node.booleanValue());
      case NULL -> out.nullValue();
      default -> throw new IllegalArgumentException("not a JSON value: " + node.getNodeType());
    }
  }

  private static void object(CanonicalJsonWriter out, JsonNode node, boolean sorted, String[] skip) {
    out.beginObject();
    if (sorted) {
      List<String> list = new ArrayList<>(node.size());
      node.fieldNames().forEachRemaining(list::add);
      String[] names = list.toArray(NO_NAMES);
      for (int i = 0, n = CanonicalJsonWriter.sortMembers(names, skip); i < n; i++) {
        out.name(names[i]);
        value(out, node.get(names[i]), true, NO_NAMES);
      }
    } else {
      // compact() skips nothing: only canonicalWithout() names members to leave out.
      for (Map.Entry<String, JsonNode> member : node.properties()) {
        out.name(member.getKey());
        value(out, member.getValue(), false, NO_NAMES);
      }
    }
    out.endObject();
  }

  private static void number(CanonicalJsonWriter out, JsonNode node) {
    if (!node.isIntegralNumber()) {
      out.number(node.doubleValue());
    } else if (node.canConvertToLong()) {
      out.number(node.longValue()); // refuses beyond ±(2^53-1)
    } else {
      // I-JSON: a peer would refuse it (ESMP answers bad_json), and a double would round it.
      throw new IllegalArgumentException("integer beyond ±(2^53-1): " + node.bigIntegerValue());
    }
  }
}
