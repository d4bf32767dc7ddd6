package org.esmp.json;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Strict UTF-8 validation of raw frame bytes, per Unicode Table 3-7: refuses overlong forms,
 * encoded surrogates (ED A0..BF), code points above U+10FFFF, bytes C0, C1 and F5..FF, stray
 * continuation bytes and truncated sequences. Jackson's decoder is lenient on several of these, so
 * this runs before it.
 */
final class Utf8 {

  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long HIGH_BITS = 0x8080808080808080L;
  private static final long ONES = 0x0101010101010101L;
  private static final long BACKSLASHES = 0x5C5C5C5C5C5C5C5CL;

  private Utf8() {}

  /**
   * Validates {@code b[from, to)} as UTF-8.
   *
   * @return whether a backslash byte occurs: only then can a string hold a {@code \}{@code u}
   *     escape, and so a lone surrogate
   * @throws BadJsonException when the bytes are not well-formed UTF-8
   */
  static boolean validate(byte[] b, int from, int to) {
    boolean backslash = false;
    int i = from;
    // Frames are mostly ASCII: check eight bytes at a time until the first byte with its high bit.
    while (i + 8 <= to) {
      long w = (long) LONGS.get(b, i);
      if ((w & HIGH_BITS) != 0) {
        break;
      }
      if (!backslash) {
        long x = w ^ BACKSLASHES; // a zero byte where a backslash was
        backslash = ((x - ONES) & ~x & HIGH_BITS) != 0;
      }
      i += 8;
    }
    while (i < to) {
      int c = b[i];
      if (c >= 0) {
        backslash |= c == '\\';
        i++;
        continue;
      }
      c &= 0xFF;
      if (c < 0xC2) {
        // 80..BF: continuation byte without a lead; C0, C1: always overlong.
        throw new BadJsonException("invalid UTF-8");
      } else if (c < 0xE0) {
        i = continuation(b, i + 1, to, 0x80, 0xBF);
      } else if (c < 0xF0) {
        int lo = c == 0xE0 ? 0xA0 : 0x80; // E0 80..9F would be overlong
        int hi = c == 0xED ? 0x9F : 0xBF; // ED A0..BF would encode a surrogate
        i = continuation(b, i + 1, to, lo, hi);
        i = continuation(b, i, to, 0x80, 0xBF);
      } else if (c < 0xF5) {
        int lo = c == 0xF0 ? 0x90 : 0x80; // F0 80..8F would be overlong
        int hi = c == 0xF4 ? 0x8F : 0xBF; // F4 90.. would exceed U+10FFFF
        i = continuation(b, i + 1, to, lo, hi);
        i = continuation(b, i, to, 0x80, 0xBF);
        i = continuation(b, i, to, 0x80, 0xBF);
      } else {
        throw new BadJsonException("invalid UTF-8");
      }
    }
    return backslash;
  }

  /** Checks that {@code b[i]} exists and lies in {@code lo..hi}; returns the next index. */
  private static int continuation(byte[] b, int i, int to, int lo, int hi) {
    if (i >= to) {
      throw new BadJsonException("truncated UTF-8 sequence");
    }
    int c = b[i] & 0xFF;
    if (c < lo || c > hi) {
      throw new BadJsonException("invalid UTF-8");
    }
    return i + 1;
  }
}
