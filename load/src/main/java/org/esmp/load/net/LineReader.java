package org.esmp.load.net;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Splits a server's byte stream into frames: one JSON object per line, ended by {@code \n}, a
 * {@code \r} before it dropped, empty lines skipped (ESMP-1 §1). Not thread-safe: one reader
 * thread per connection.
 */
public final class LineReader {

  /** Longer than any frame a server sends (a deliver of a 64 KiB message, escaped). */
  static final int MAX_LINE = 1 << 20;

  private final InputStream in;
  private final byte[] buffer = new byte[1 << 16];
  private int position;
  private int limit;
  private byte[] line = new byte[1 << 12];

  public LineReader(InputStream in) {
    this.in = in;
  }

  /** The next non-empty line without its line ending, or null at the end of the stream. */
  public byte[] readLine() throws IOException {
    while (true) {
      int length = 0;
      while (true) {
        if (position == limit) {
          limit = in.read(buffer);
          position = 0;
          if (limit <= 0) {
            limit = 0;
            return null; // a partial line at the end is no frame
          }
        }
        int newline = indexOf(buffer, position, limit);
        int end = newline < 0 ? limit : newline;
        length = append(length, end);
        position = newline < 0 ? limit : newline + 1;
        if (newline >= 0) {
          break;
        }
      }
      if (length > 0 && line[length - 1] == '\r') {
        length--;
      }
      if (length > 0) {
        return Arrays.copyOf(line, length);
      }
    }
  }

  private int append(int length, int end) throws IOException {
    int n = end - position;
    if (length + n > MAX_LINE) {
      throw new IOException("a server frame longer than " + MAX_LINE + " bytes");
    }
    if (length + n > line.length) {
      line = Arrays.copyOf(line, Math.max(length + n, line.length * 2));
    }
    System.arraycopy(buffer, position, line, length, n);
    return length + n;
  }

  private static int indexOf(byte[] bytes, int from, int to) {
    for (int i = from; i < to; i++) {
      if (bytes[i] == '\n') {
        return i;
      }
    }
    return -1;
  }
}
