package org.esmp.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import java.io.IOException;
import java.util.Objects;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonBoolean;
import org.esmp.api.json.JsonNull;
import org.esmp.api.json.JsonNumber;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonString;
import org.esmp.api.json.JsonValue;

/**
 * Parses one frame into a {@link JsonObject}, accepting only strict RFC 8259 JSON that is also
 * I-JSON (RFC 7493) as ESMP-1 §2.1 requires. Anything else is a {@link BadJsonException}:
 *
 * <ul>
 *   <li>bytes that are not well-formed UTF-8, a byte order mark, or NUL bytes where Jackson would
 *       take them for a UTF-16/32 encoding;
 *   <li>anything but exactly one JSON object, optionally surrounded by JSON whitespace;
 *   <li>non-standard JSON: comments, single quotes, unquoted keys, {@code NaN}, leading zeros,
 *       raw control characters in strings, trailing commas and the like;
 *   <li>a duplicate key at any depth (compared after unescaping);
 *   <li>a lone or reversed surrogate escape in a string or key;
 *   <li>an integer literal (no fraction, no exponent) beyond ±(2^53−1), or any number whose double
 *       is infinite ({@code 1e400}). Numbers that underflow ({@code 1e-400}) become 0: they fit the
 *       double range and I-JSON only asks for that;
 *   <li>a fraction or exponent literal whose double is a whole number from 2^53 up to (not
 *       including) 10^21, such as {@code 1.0e18} or {@code 9007199254740993.0}: RFC 8785 writes
 *       such a value as an integer literal beyond 2^53−1, which this parser (and any as strict)
 *       refuses, so a message holding it could be accepted but never delivered; and the value is
 *       a rounding of what was written in most cases. (From 10^21 on, RFC 8785 writes an exponent:
 *       {@code 1e21} is accepted.) See docs/PROTOCOL.md;
 *   <li>nesting deeper than {@code maxDepth}, the frame's own object being level 1;
 *   <li>a number literal of more than {@value #MAX_NUMBER_LENGTH} digits (a cost guard: no double
 *       needs that many to be written exactly).
 * </ul>
 *
 * <p>Numbers become {@link JsonNumber} doubles, so {@code 1.0} and {@code 1} are the same value.
 * Members keep their order. The parser is immutable and thread-safe; one instance serves every
 * connection.
 */
public final class FrameParser {

  /** The nesting limit of ESMP-1 §2.1 unless configured otherwise. */
  public static final int DEFAULT_MAX_DEPTH = 64;

  /** The largest {@code maxDepth} accepted: the parser recurses once per level. */
  public static final int MAX_SUPPORTED_DEPTH = 1000;

  /** RFC 8785 (ECMAScript) writes whole numbers below this without an exponent. */
  private static final double FIRST_EXPONENT_FORM = 1e21;
  /** Digits of 2^53−1 = 9007199254740991; an integer literal with more is out of range. */
  private static final int MAX_SAFE_INTEGER_DIGITS = 16;

  /** Longest number literal accepted, in digits (as Jackson counts them). */
  public static final int MAX_NUMBER_LENGTH = 1000;

  private final int maxDepth;
  private final JsonFactory factory;

  /** A parser with the default nesting limit of 64. */
  public FrameParser() {
    this(DEFAULT_MAX_DEPTH);
  }

  /** @param maxDepth deepest nesting accepted, the frame's object being level 1; 1 to 1000 */
  public FrameParser(int maxDepth) {
    if (maxDepth < 1 || maxDepth > MAX_SUPPORTED_DEPTH) {
      throw new IllegalArgumentException(
          "maxDepth must be 1.." + MAX_SUPPORTED_DEPTH + ", got " + maxDepth);
    }
    this.maxDepth = maxDepth;
    StreamReadConstraints constraints =
        StreamReadConstraints.builder()
            // One level of slack so that our own check, with its bad_json reason, fires first.
            .maxNestingDepth(maxDepth + 1)
            // Decimal-to-double conversion costs milliseconds for a 64 KB literal: an easy way to
            // burn CPU. Any double's exact value fits in ~770 chars in exponent notation, so only
            // zero-padded literals reach this limit.
            .maxNumberLength(MAX_NUMBER_LENGTH)
            // Names are cheap to read; the frame length bounds them, not Jackson's 50,000 default.
            .maxNameLength(Integer.MAX_VALUE)
            .build();
    this.factory =
        JsonFactory.builder()
            .streamReadConstraints(constraints)
            // Keys come from untrusted peers: do not grow the JVM's string pool with them.
            .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
            .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
            .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
            .build();
  }

  /** The nesting limit of this parser. */
  public int maxDepth() {
    return maxDepth;
  }

  /**
   * Parses {@code buf[offset, offset + length)} as one frame. The bytes are read, not kept.
   *
   * @return the frame's object
   * @throws BadJsonException when the bytes are not one I-JSON object within this parser's limits
   * @throws IndexOutOfBoundsException when the slice does not lie within {@code buf}
   */
  public JsonObject parse(byte[] buf, int offset, int length) {
    Objects.checkFromIndexSize(offset, length, buf.length);
    int end = offset + length;
    boolean escapes = Utf8.validate(buf, offset, end);
    if (length >= 3
        && buf[offset] == (byte) 0xEF
        && buf[offset + 1] == (byte) 0xBB
        && buf[offset + 2] == (byte) 0xBF) {
      throw new BadJsonException("byte order mark");
    }
    // Jackson guesses UTF-16/32 from NUL bytes among the first four; JSON never has a raw NUL,
    // and later ones are refused by Jackson itself as control characters.
    for (int i = offset, n = Math.min(end, offset + 4); i < n; i++) {
      if (buf[i] == 0) {
        throw new BadJsonException("NUL byte");
      }
    }
    try (JsonParser p = factory.createParser(buf, offset, length)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new BadJsonException("frame is not a JSON object");
      }
      JsonObject frame = readObject(p, 1, escapes);
      if (p.nextToken() != null) {
        throw new BadJsonException("content after the JSON object");
      }
      return frame;
    } catch (StreamConstraintsException e) {
      // A number literal too long, or keys built to collide in Jackson's symbol table; depth is
      // checked by us first and names are unbounded.
      throw new BadJsonException("JSON exceeds the parser's limits");
    } catch (IOException e) {
      // Jackson's messages quote the input; keep ours content-free.
      throw new BadJsonException("malformed JSON");
    } catch (NumberFormatException e) {
      throw new BadJsonException("malformed number");
    }
  }

  /** Reads the members after a START_OBJECT at nesting {@code depth}, up to its END_OBJECT. */
  private JsonObject readObject(JsonParser p, int depth, boolean escapes) throws IOException {
    JsonObject.Builder members = JsonObject.builder();
    JsonToken token;
    while ((token = p.nextToken()) == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      if (escapes) {
        requireNoLoneSurrogate(name);
      }
      JsonValue value = readValue(p, p.nextToken(), depth, escapes);
      if (!members.putNew(name, value)) {
        throw new BadJsonException("duplicate key");
      }
    }
    if (token != JsonToken.END_OBJECT) {
      throw new BadJsonException("malformed JSON");
    }
    return members.build();
  }

  /** Reads the items after a START_ARRAY at nesting {@code depth}, up to its END_ARRAY. */
  private JsonArray readArray(JsonParser p, int depth, boolean escapes) throws IOException {
    JsonArray.Builder items = JsonArray.builder();
    JsonToken token;
    while ((token = p.nextToken()) != JsonToken.END_ARRAY) {
      items.add(readValue(p, token, depth, escapes));
    }
    return items.build();
  }

  /** Reads the value starting at {@code token}, inside a container at nesting {@code depth}. */
  private JsonValue readValue(JsonParser p, JsonToken token, int depth, boolean escapes)
      throws IOException {
    if (token == null) {
      throw new BadJsonException("truncated JSON");
    }
    switch (token) {
      case START_OBJECT:
        return readObject(p, deeper(depth), escapes);
      case START_ARRAY:
        return readArray(p, deeper(depth), escapes);
      case VALUE_STRING:
        String text = p.getText();
        if (escapes) {
          requireNoLoneSurrogate(text);
        }
        return new JsonString(text);
      case VALUE_NUMBER_INT:
        return safeInteger(p);
      case VALUE_NUMBER_FLOAT:
        double d = p.getDoubleValue();
        if (!Double.isFinite(d)) {
          throw new BadJsonException("number out of double range");
        }
        double magnitude = Math.abs(d);
        if (magnitude > JsonNumber.MAX_SAFE_INTEGER && magnitude < FIRST_EXPONENT_FORM && d == Math.rint(d)) {
          throw new BadJsonException("number whose canonical form is an integer beyond 2^53-1");
        }
        return new JsonNumber(d);
      case VALUE_TRUE:
        return JsonBoolean.TRUE;
      case VALUE_FALSE:
        return JsonBoolean.FALSE;
      case VALUE_NULL:
        return JsonNull.INSTANCE;
      default:
        throw new BadJsonException("malformed JSON");
    }
  }

  private int deeper(int depth) {
    if (depth >= maxDepth) {
      throw new BadJsonException("nesting deeper than " + maxDepth);
    }
    return depth + 1;
  }

  /** An integer literal, refused beyond ±(2^53−1) so that no signed value is rounded. */
  private static JsonNumber safeInteger(JsonParser p) throws IOException {
    // Count digits first: a huge literal must not cost a BigInteger parse. No leading zeros are
    // allowed, so more than 16 digits means out of range.
    int digits = p.getTextLength();
    if (p.getTextCharacters()[p.getTextOffset()] == '-') {
      digits--;
    }
    if (digits > MAX_SAFE_INTEGER_DIGITS) {
      throw new BadJsonException("integer beyond 2^53-1");
    }
    long value = p.getLongValue();
    if (value > JsonNumber.MAX_SAFE_INTEGER || value < -JsonNumber.MAX_SAFE_INTEGER) {
      throw new BadJsonException("integer beyond 2^53-1");
    }
    // (double) of a long -0 is +0: RFC 8785 writes both as 0 anyway.
    return new JsonNumber(value);
  }

  /** Refuses a high surrogate not followed by a low one, and a low one not preceded by a high. */
  private static void requireNoLoneSurrogate(String s) {
    for (int i = 0, n = s.length(); i < n; i++) {
      char c = s.charAt(i);
      if (Character.isSurrogate(c)) {
        if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++;
        } else {
          throw new BadJsonException("lone surrogate escape");
        }
      }
    }
  }
}
