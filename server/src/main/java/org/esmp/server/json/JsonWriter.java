package org.esmp.server.json;

import static java.nio.charset.StandardCharsets.US_ASCII;

import java.io.IOException;
import java.util.Arrays;
import java.util.Map;
import org.erdtman.jcs.NumberToJSON;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonBoolean;
import org.esmp.api.json.JsonNull;
import org.esmp.api.json.JsonNumber;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonString;
import org.esmp.api.json.JsonValue;

/**
 * Serializes {@link JsonValue}s as compact UTF-8 JSON in the RFC 8785 (JCS) style: no whitespace,
 * strings with only the escapes JCS requires ({@code \"}, {@code \\}, {@code \b}, {@code \f},
 * {@code \n}, {@code \r}, {@code \t}, other controls as lowercase {@code \}{@code u00xx}),
 * everything else as literal UTF-8, numbers as ECMAScript writes them ({@code -0} as {@code 0}).
 *
 * <p>{@link #canonical} and {@link #canonicalWithout} sort members by UTF-16 code units and so
 * give the exact JCS bytes; {@link #write} keeps insertion order, for server frames that read
 * best with {@code type} first. A string holding a lone surrogate cannot be written as I-JSON and
 * is an {@link IllegalArgumentException}; the parser never produces one, so only a value built
 * in code can. Thread-safe: each call works on its own buffer.
 */
public final class JsonWriter {

  /** Escape for each ASCII char: 0 none, {@code 'u'} for {@code \}{@code u00xx}, else the letter. */
  private static final byte[] ESCAPES = new byte[128];

  static {
    for (int c = 0; c < 0x20; c++) {
      ESCAPES[c] = 'u';
    }
    ESCAPES['"'] = '"';
    ESCAPES['\\'] = '\\';
    ESCAPES['\b'] = 'b';
    ESCAPES['\f'] = 'f';
    ESCAPES['\n'] = 'n';
    ESCAPES['\r'] = 'r';
    ESCAPES['\t'] = 't';
  }

  private static final byte[] HEX = "0123456789abcdef".getBytes(US_ASCII);
  private static final byte[] NULL = {'n', 'u', 'l', 'l'};
  private static final byte[] TRUE = {'t', 'r', 'u', 'e'};
  private static final byte[] FALSE = {'f', 'a', 'l', 's', 'e'};
  private static final String[] NO_NAMES = {};

  private byte[] buf = new byte[256];
  private int size;
  private final boolean sorted;

  private JsonWriter(boolean sorted) {
    this.sorted = sorted;
  }

  /** The RFC 8785 canonical UTF-8 bytes of {@code value}. */
  public static byte[] canonical(JsonValue value) {
    JsonWriter w = new JsonWriter(true);
    w.value(value);
    return w.toBytes();
  }

  /**
   * The RFC 8785 canonical bytes of {@code object} as if the top-level members named in {@code
   * skipTopLevel} were absent; nested members of those names are kept. This gives the signing
   * bytes of ESMP-1 §2.1 without copying the message.
   */
  public static byte[] canonicalWithout(JsonObject object, String... skipTopLevel) {
    JsonWriter w = new JsonWriter(true);
    w.object(object, skipTopLevel);
    return w.toBytes();
  }

  /** Compact UTF-8 JSON of {@code value} with members in insertion order, e.g. for server frames. */
  public static byte[] write(JsonValue value) {
    JsonWriter w = new JsonWriter(false);
    w.value(value);
    return w.toBytes();
  }

  private void value(JsonValue value) {
    if (value instanceof JsonString s) {
      string(s.value());
    } else if (value instanceof JsonObject o) {
      object(o, NO_NAMES);
    } else if (value instanceof JsonArray a) {
      array(a);
    } else if (value instanceof JsonNumber n) {
      number(n.value());
    } else if (value instanceof JsonBoolean b) {
      raw(b.value() ? TRUE : FALSE);
    } else if (value == JsonNull.INSTANCE) {
      raw(NULL);
    } else {
      throw new IllegalArgumentException("not a JSON value: " + value);
    }
  }

  private void object(JsonObject object, String[] skip) {
    Map<String, JsonValue> members = object.members();
    put((byte) '{');
    boolean first = true;
    if (sorted && members.size() > 1) {
      String[] names = members.keySet().toArray(NO_NAMES);
      // String.compareTo orders by UTF-16 code units, exactly as RFC 8785 §3.2.3 asks.
      Arrays.sort(names);
      for (String name : names) {
        if (!skipped(name, skip)) {
          first = member(first, name, members.get(name));
        }
      }
    } else {
      for (Map.Entry<String, JsonValue> m : members.entrySet()) {
        if (!skipped(m.getKey(), skip)) {
          first = member(first, m.getKey(), m.getValue());
        }
      }
    }
    put((byte) '}');
  }

  private static boolean skipped(String name, String[] skip) {
    for (String s : skip) {
      if (s.equals(name)) {
        return true;
      }
    }
    return false;
  }

  /** Writes one member; returns {@code false}, the new value of "is this the first member". */
  private boolean member(boolean first, String name, JsonValue value) {
    if (!first) {
      put((byte) ',');
    }
    string(name);
    put((byte) ':');
    value(value);
    return false;
  }

  private void array(JsonArray array) {
    put((byte) '[');
    for (int i = 0, n = array.size(); i < n; i++) {
      if (i > 0) {
        put((byte) ',');
      }
      value(array.get(i));
    }
    put((byte) ']');
  }

  private void number(double d) {
    // Whole numbers within ±2^53 print as their integer digits in ECMAScript too (each such
    // integer is its own shortest round-trip form); the common case skips the general algorithm.
    if (d == Math.rint(d) && Math.abs(d) <= JsonNumber.MAX_SAFE_INTEGER) {
      integer((long) d);
      return;
    }
    String text;
    try {
      text = NumberToJSON.serializeNumber(d);
    } catch (IOException e) {
      // Only NaN and infinities, which JsonNumber cannot hold.
      throw new IllegalArgumentException("not a JSON number: " + d, e);
    }
    ensure(text.length());
    for (int i = 0, n = text.length(); i < n; i++) {
      buf[size++] = (byte) text.charAt(i);
    }
  }

  private void integer(long v) {
    ensure(20);
    if (v < 0) {
      buf[size++] = '-';
      v = -v;
    }
    int start = size;
    do {
      buf[size++] = (byte) ('0' + (int) (v % 10));
      v /= 10;
    } while (v != 0);
    for (int i = start, j = size - 1; i < j; i++, j--) {
      byte t = buf[i];
      buf[i] = buf[j];
      buf[j] = t;
    }
  }

  private void string(String s) {
    int n = s.length();
    // Room for the common case (ASCII, no escapes) up front; escapes and multi-byte chars check
    // again as they go.
    ensure(n + 2);
    buf[size++] = '"';
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        byte e = ESCAPES[c];
        if (e == 0) {
          ensure(2); // the char and the closing quote
          buf[size++] = (byte) c;
        } else if (e == 'u') {
          ensure(7);
          buf[size++] = '\\';
          buf[size++] = 'u';
          buf[size++] = '0';
          buf[size++] = '0';
          buf[size++] = HEX[c >> 4];
          buf[size++] = HEX[c & 0xF];
        } else {
          ensure(3);
          buf[size++] = '\\';
          buf[size++] = e;
        }
      } else if (c < 0x800) {
        ensure(3);
        buf[size++] = (byte) (0xC0 | (c >> 6));
        buf[size++] = (byte) (0x80 | (c & 0x3F));
      } else if (!Character.isSurrogate(c)) {
        ensure(4);
        buf[size++] = (byte) (0xE0 | (c >> 12));
        buf[size++] = (byte) (0x80 | ((c >> 6) & 0x3F));
        buf[size++] = (byte) (0x80 | (c & 0x3F));
      } else if (Character.isHighSurrogate(c)
          && i + 1 < n
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        int cp = Character.toCodePoint(c, s.charAt(++i));
        ensure(5);
        buf[size++] = (byte) (0xF0 | (cp >> 18));
        buf[size++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
        buf[size++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
        buf[size++] = (byte) (0x80 | (cp & 0x3F));
      } else {
        throw new IllegalArgumentException("string holds a lone surrogate at index " + i);
      }
    }
    ensure(1);
    buf[size++] = '"';
  }

  private void raw(byte[] bytes) {
    ensure(bytes.length);
    System.arraycopy(bytes, 0, buf, size, bytes.length);
    size += bytes.length;
  }

  private void put(byte b) {
    ensure(1);
    buf[size++] = b;
  }

  private void ensure(int more) {
    if (size + more > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + more));
    }
  }

  private byte[] toBytes() {
    return Arrays.copyOf(buf, size);
  }
}
