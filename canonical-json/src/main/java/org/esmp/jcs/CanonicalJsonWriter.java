package org.esmp.jcs;

import static java.nio.charset.StandardCharsets.US_ASCII;

import java.io.IOException;
import java.util.Arrays;
import org.erdtman.jcs.NumberToJSON;

/**
 * Writes one JSON value as compact UTF-8 in the RFC 8785 (JCS) style, token by token: no
 * whitespace, strings with only the escapes JCS requires ({@code \"}, {@code \\}, {@code \b},
 * {@code \f}, {@code \n}, {@code \r}, {@code \t}, other controls as lowercase
 * {@code \}{@code u00xx}), everything else as literal UTF-8, numbers as ECMAScript writes them
 * ({@code -0} as {@code 0}).
 *
 * <p>The writer has no JSON tree of its own: a caller walks its tree and calls {@link
 * #beginObject}, {@link #name}, the value methods, {@link #endObject} and so on, in document
 * order; the writer adds the commas and colons. It does not check that the calls make one
 * well-formed value: that is the walk's job. Member order is the caller's too: for the canonical
 * form, write an object's members in the order of {@link #sortMembers} (UTF-16 code units, RFC 8785 §3.2.3);
 * in any other order the output is compact JSON, not canonical (server frames keep {@code type}
 * first that way).
 *
 * <p>What cannot be written as I-JSON is an {@link IllegalArgumentException}: a string holding a
 * lone surrogate, a NaN or infinite number, an integer beyond ±(2^53−1) given as a {@code long}.
 *
 * <p>One writer makes one value, on one thread; it is cheap to create. {@link #toByteArray}
 * copies the bytes out.
 */
public final class CanonicalJsonWriter {

  /** 2^53 − 1: the largest integer every JSON implementation reads exactly (I-JSON, RFC 7493). */
  public static final long MAX_SAFE_INTEGER = (1L << 53) - 1;

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

  private byte[] buf = new byte[256];
  private int size;
  /** Whether a value ended last, so that the next value or member needs a comma before it. */
  private boolean comma;

  /** A writer with nothing written yet. */
  public CanonicalJsonWriter() {}

  /**
   * Puts an object's member names in canonical order, by UTF-16 code units as RFC 8785 §3.2.3
   * asks, leaving out those named in {@code skip}: afterwards {@code names[0, count)} are the
   * members to write, in order, and the skipped ones lie beyond. In place, so that the signing
   * bytes of every message cost no array beyond the caller's copy of the names.
   *
   * <p>Skipping serves ESMP signing bytes (ESMP-1 §2.1): the top-level object is written without
   * {@code signature} and {@code sender_pubkey}, as if they were absent; nested objects are
   * written whole, with no names skipped.
   *
   * @param names the member names, each once; reordered
   * @param skip names to leave out; names that are absent leave every member in
   * @return count, the number of names to write
   */
  public static int sortMembers(String[] names, String... skip) {
    int count = names.length;
    if (skip.length > 0) {
      count = 0;
      for (int i = 0; i < names.length; i++) {
        String name = names[i];
        if (indexOf(skip, name) < 0) {
          names[i] = names[count];
          names[count++] = name;
        }
      }
    }
    // String.compareTo orders by UTF-16 code units, exactly as RFC 8785 §3.2.3 asks.
    Arrays.sort(names, 0, count);
    return count;
  }

  private static int indexOf(String[] names, String name) {
    for (int i = 0; i < names.length; i++) {
      if (names[i].equals(name)) {
        return i;
      }
    }
    return -1;
  }

  /** Starts an object: {@code {}. */
  public CanonicalJsonWriter beginObject() {
    separate();
    put((byte) '{');
    comma = false;
    return this;
  }

  /** Starts a member of the object being written: its name and the colon; its value follows. */
  public CanonicalJsonWriter name(String name) {
    separate();
    quoted(name);
    put((byte) ':');
    comma = false;
    return this;
  }

  /** Ends the object being written: {@code }}. */
  public CanonicalJsonWriter endObject() {
    put((byte) '}');
    comma = true;
    return this;
  }

  /** Starts an array: {@code [}. */
  public CanonicalJsonWriter beginArray() {
    separate();
    put((byte) '[');
    comma = false;
    return this;
  }

  /** Ends the array being written: {@code ]}. */
  public CanonicalJsonWriter endArray() {
    put((byte) ']');
    comma = true;
    return this;
  }

  /**
   * A string value.
   *
   * @throws IllegalArgumentException when {@code value} holds a lone surrogate
   */
  public CanonicalJsonWriter string(String value) {
    separate();
    quoted(value);
    comma = true;
    return this;
  }

  /**
   * A number value, as ECMAScript's {@code Number.prototype.toString} writes it (RFC 8785
   * §3.2.2.3). A whole number beyond 2^53 is written too (as ECMAScript would, e.g. {@code 1e18}
   * as {@code 1000000000000000000}), although an I-JSON reader may refuse it.
   *
   * @throws IllegalArgumentException when {@code value} is NaN or infinite
   */
  public CanonicalJsonWriter number(double value) {
    separate();
    // Whole numbers within ±2^53 print as their integer digits in ECMAScript too (each such
    // integer is its own shortest round-trip form); the common case skips the general algorithm.
    if (value == Math.rint(value) && Math.abs(value) <= MAX_SAFE_INTEGER) {
      digits((long) value); // also writes -0 as 0
    } else {
      String text;
      try {
        text = NumberToJSON.serializeNumber(value);
      } catch (IOException e) {
        throw new IllegalArgumentException("not a JSON number: " + value, e);
      }
      ensure(text.length());
      for (int i = 0, n = text.length(); i < n; i++) {
        buf[size++] = (byte) text.charAt(i);
      }
    }
    comma = true;
    return this;
  }

  /**
   * An integer value.
   *
   * @throws IllegalArgumentException when {@code value} lies beyond ±(2^53−1): a peer would refuse
   *     it (I-JSON; ESMP answers {@code bad_json}), and a reader of doubles would round it
   */
  public CanonicalJsonWriter number(long value) {
    if (value > MAX_SAFE_INTEGER || value < -MAX_SAFE_INTEGER) {
      throw new IllegalArgumentException("integer beyond ±(2^53-1): " + value);
    }
    separate();
    digits(value);
    comma = true;
    return this;
  }

  /** {@code true} or {@code false}. */
  public CanonicalJsonWriter bool(boolean value) {
    separate();
    raw(value ? TRUE : FALSE);
    comma = true;
    return this;
  }

  /** {@code null}. */
  public CanonicalJsonWriter nullValue() {
    separate();
    raw(NULL);
    comma = true;
    return this;
  }

  /** A copy of the bytes written so far. */
  public byte[] toByteArray() {
    return Arrays.copyOf(buf, size);
  }

  private void separate() {
    if (comma) {
      put((byte) ',');
    }
  }

  /** The decimal digits of {@code v}, which lies within ±(2^53−1). */
  private void digits(long v) {
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

  private void quoted(String s) {
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
}
