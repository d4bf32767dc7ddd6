package org.esmp.client;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.erdtman.jcs.NumberToJSON;

/**
 * Serializes Jackson trees as compact UTF-8 JSON in the RFC 8785 (JCS) style: no whitespace,
 * only the string escapes JCS requires, everything else as literal UTF-8, numbers as ECMAScript
 * writes them. {@link #canonical} sorts members by UTF-16 code units (the exact JCS bytes, which
 * ESMP signs); {@link #compact} keeps the tree's member order, for frames that read best with
 * {@code type} first. Stateless and thread-safe.
 */
public final class Jcs {

  /** 2^53 − 1: the largest integer every JSON implementation reads exactly (I-JSON). */
  public static final long MAX_SAFE_INTEGER = (1L << 53) - 1;

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private Jcs() {}

  /** The RFC 8785 canonical bytes of {@code value}. */
  public static byte[] canonical(JsonNode value) {
    return write(value, true, Set.of());
  }

  /**
   * The RFC 8785 bytes of {@code object} as if its top-level members named in {@code skip} were
   * absent: with {@code signature} and {@code sender_pubkey}, the signing bytes of ESMP-1 §2.1.
   */
  public static byte[] canonicalWithout(JsonNode object, Set<String> skip) {
    return write(object, true, skip);
  }

  /** Compact JSON of {@code value}, members in the tree's order. */
  public static byte[] compact(JsonNode value) {
    return write(value, false, Set.of());
  }

  private static byte[] write(JsonNode value, boolean sorted, Set<String> skipTopLevel) {
    StringBuilder out = new StringBuilder(256);
    value(out, value, sorted, skipTopLevel);
    return out.toString().getBytes(UTF_8);
  }

  private static void value(StringBuilder out, JsonNode node, boolean sorted, Set<String> skip) {
    switch (node.getNodeType()) {
      case OBJECT -> object(out, node, sorted, skip);
      case ARRAY -> {
        out.append('[');
        for (int i = 0; i < node.size(); i++) {
          if (i > 0) {
            out.append(',');
          }
          value(out, node.get(i), sorted, Set.of());
        }
        out.append(']');
      }
      case STRING -> string(out, node.textValue());
      case NUMBER -> number(out, node);
      case BOOLEAN -> out.append(node.booleanValue() ? "true" : "false");
      case NULL -> out.append("null");
      default -> throw new IllegalArgumentException("not a JSON value: " + node.getNodeType());
    }
  }

  private static void object(StringBuilder out, JsonNode node, boolean sorted, Set<String> skip) {
    List<String> names = new ArrayList<>();
    for (Map.Entry<String, JsonNode> member : node.properties()) {
      String name = member.getKey();
      if (!skip.contains(name)) {
        names.add(name);
      }
    }
    if (sorted) {
      // String.compareTo orders by UTF-16 code units, exactly as RFC 8785 §3.2.3 asks.
      Collections.sort(names);
    }
    out.append('{');
    boolean first = true;
    for (String name : names) {
      if (!first) {
        out.append(',');
      }
      first = false;
      string(out, name);
      out.append(':');
      value(out, node.get(name), sorted, Set.of());
    }
    out.append('}');
  }

  private static void number(StringBuilder out, JsonNode node) {
    if (node.isIntegralNumber()) {
      BigInteger big = node.bigIntegerValue();
      if (big.abs().compareTo(BigInteger.valueOf(MAX_SAFE_INTEGER)) > 0) {
        // I-JSON: a peer would refuse it (ESMP answers bad_json), and a double would round it.
        throw new IllegalArgumentException("integer beyond ±(2^53-1): " + big);
      }
      out.append(big.longValue());
      return;
    }
    double d = node.doubleValue();
    if (d == Math.rint(d) && Math.abs(d) <= MAX_SAFE_INTEGER) {
      out.append((long) d); // also writes -0 as 0, as ECMAScript does
      return;
    }
    try {
      out.append(NumberToJSON.serializeNumber(d));
    } catch (IOException e) {
      throw new IllegalArgumentException("not a JSON number: " + d, e);
    }
  }

  private static void string(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0, n = s.length(); i < n; i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xf]);
          } else if (Character.isHighSurrogate(c) && i + 1 < n
              && Character.isLowSurrogate(s.charAt(i + 1))) {
            out.append(c).append(s.charAt(++i));
          } else if (Character.isSurrogate(c)) {
            throw new IllegalArgumentException("lone surrogate in a string: not I-JSON");
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }
}
