package org.esmp.json;

import java.util.Map;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonBoolean;
import org.esmp.api.json.JsonNull;
import org.esmp.api.json.JsonNumber;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonString;
import org.esmp.api.json.JsonValue;
import org.esmp.jcs.CanonicalJsonWriter;

/**
 * Serializes {@link JsonValue}s as compact UTF-8 JSON in the RFC 8785 (JCS) style: a walk of the
 * API's JSON tree that drives the project's one canonical writer, {@link CanonicalJsonWriter}
 * (escaping, numbers and member order live there, shared with the client).
 *
 * <p>{@link #canonical} and {@link #canonicalWithout} sort members by UTF-16 code units and so
 * give the exact JCS bytes; {@link #write} keeps insertion order, for server frames that read
 * best with {@code type} first. A string holding a lone surrogate cannot be written as I-JSON and
 * is an {@link IllegalArgumentException}; the parser never produces one, so only a value built
 * in code can. Thread-safe: each call works on its own buffer.
 */
public final class JsonWriter {

  private static final String[] NO_NAMES = {};

  private JsonWriter() {}

  /** The RFC 8785 canonical UTF-8 bytes of {@code value}. */
  public static byte[] canonical(JsonValue value) {
    CanonicalJsonWriter out = new CanonicalJsonWriter();
    value(out, value, true);
    return out.toByteArray();
  }

  /**
   * The RFC 8785 canonical bytes of {@code object} as if the top-level members named in {@code
   * skipTopLevel} were absent; nested members of those names are kept. This gives the signing
   * bytes of ESMP-1 §2.1 without copying the message.
   */
  public static byte[] canonicalWithout(JsonObject object, String... skipTopLevel) {
    CanonicalJsonWriter out = new CanonicalJsonWriter();
    sortedObject(out, object, skipTopLevel);
    return out.toByteArray();
  }

  /** Compact UTF-8 JSON of {@code value} with members in insertion order, e.g. for server frames. */
  public static byte[] write(JsonValue value) {
    CanonicalJsonWriter out = new CanonicalJsonWriter();
    value(out, value, false);
    return out.toByteArray();
  }

  // Objects and arrays have methods of their own to keep this one small: with their loops inline,
  // the JIT stopped removing the map's entry iterators (CanonicalJsonBenchmark: 1.4 KB more
  // garbage per write of its large frame).
  private static void value(CanonicalJsonWriter out, JsonValue value, boolean sorted) {
    if (value instanceof JsonString s) {
      out.string(s.value());
    } else if (value instanceof JsonObject o) {
      object(out, o, sorted);
    } else if (value instanceof JsonArray a) {
      array(out, a, sorted);
    } else if (value instanceof JsonNumber n) {
      out.number(n.value());
    } else if (value instanceof JsonBoolean b) {
      out.bool(b.value());
    } else if (value == JsonNull.INSTANCE) {
      out.nullValue();
    } else {
      throw new IllegalArgumentException("not a JSON value: " + value);
    }
  }

  private static void object(CanonicalJsonWriter out, JsonObject object, boolean sorted) {
    // One member or none is already in canonical order: no names to copy and sort.
    if (sorted && object.size() > 1) {
      sortedObject(out, object, NO_NAMES);
      return;
    }
    out.beginObject();
    for (Map.Entry<String, JsonValue> m : object.members().entrySet()) {
      out.name(m.getKey());
      value(out, m.getValue(), sorted);
    }
    out.endObject();
  }

  private static void array(CanonicalJsonWriter out, JsonArray array, boolean sorted) {
    out.beginArray();
    for (int i = 0, n = array.size(); i < n; i++) {
      value(out, array.get(i), sorted);
    }
    out.endArray();
  }

  /** The members of {@code object} but those named in {@code skip}, in canonical order. */
  private static void sortedObject(CanonicalJsonWriter out, JsonObject object, String[] skip) {
    Map<String, JsonValue> members = object.members();
    String[] names = members.keySet().toArray(NO_NAMES);
    int count = CanonicalJsonWriter.sortMembers(names, skip);
    out.beginObject();
    for (int i = 0; i < count; i++) {
      out.name(names[i]);
      value(out, members.get(names[i]), true);
    }
    out.endObject();
  }
}
