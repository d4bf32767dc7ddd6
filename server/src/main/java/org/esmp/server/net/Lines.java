package org.esmp.server.net;

import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Splits one connection's bytes into lines ({@code \n}, or {@code \r\n}, ends a line; the ending
 * is not part of it). A started line is kept in a heap array sized to what it holds, never in the
 * socket's read buffer, which goes back to the pool after every read: memory held for a connection
 * between reads is what it actually sent (Netty's line decoder keeps the read buffer, up to twice
 * the line's size, for as long as the line is unfinished).
 *
 * <p>A line longer than {@code maxLine} bytes is refused as soon as it is, without buffering the
 * rest. Not thread-safe: one connection's event loop uses it.
 */
final class Lines {

  private static final byte[] NONE = new byte[0];

  private int maxLine;
  /** The started line: {@code partial[0..partialLength)}. */
  private byte[] partial = NONE;
  private int partialLength;

  /** @param maxLine the longest line accepted, line ending not counted */
  Lines(int maxLine) {
    this.maxLine = maxLine;
  }

  /** Accepts lines up to {@code maxLine} from now on (another server's connection: relays wrap a frame). */
  void allow(int maxLine) {
    this.maxLine = Math.max(this.maxLine, maxLine);
  }

  /**
   * Hands each line completed by {@code bytes} to {@code line} (a new array each) and keeps the
   * rest as the started line. Does not release {@code bytes}.
   *
   * @return false when a line is longer than {@code maxLine}: the caller refuses it and stops; what
   *     follows it is not looked at
   */
  boolean feed(ByteBuf bytes, Consumer<byte[]> line) {
    while (bytes.isReadable()) {
      int end = bytes.forEachByte(ByteProcessor.FIND_LF);
      if (end < 0) {
        return keep(bytes);
      }
      int here = end - bytes.readerIndex();
      int total = partialLength + here;
      byte last = here > 0 ? bytes.getByte(end - 1) : total > 0 ? partial[partialLength - 1] : 0;
      int content = last == '\r' ? total - 1 : total;
      if (content > maxLine) {
        return false;
      }
      byte[] complete = new byte[content];
      int fromPartial = Math.min(partialLength, content);
      System.arraycopy(partial, 0, complete, 0, fromPartial);
      bytes.readBytes(complete, fromPartial, content - fromPartial);
      bytes.readerIndex(end + 1); // past the '\r' if any, and the '\n'
      partial = NONE;
      partialLength = 0;
      line.accept(complete);
    }
    return true;
  }

  /** Appends the rest of {@code bytes}, a started line, to the one kept. */
  private boolean keep(ByteBuf bytes) {
    int more = bytes.readableBytes();
    long length = (long) partialLength + more;
    if (length > maxLine + 1) {
      return false;
    }
    if (length > partial.length) {
      // Doubles, so that a line arriving in many pieces costs few copies; never past the longest line.
      partial = Arrays.copyOf(partial, (int) Math.min(maxLine + 1, Math.max(length, 2L * partial.length)));
    }
    bytes.readBytes(partial, partialLength, more);
    partialLength = (int) length;
    return true;
  }

  /** Whether a line is started and not complete. */
  boolean started() {
    return partialLength > 0;
  }

  /** Bytes held for the started line (its array's size). */
  int held() {
    return partial.length;
  }

  /** Forgets the started line. */
  void clear() {
    partial = NONE;
    partialLength = 0;
  }
}
