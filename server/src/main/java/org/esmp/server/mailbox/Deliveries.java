package org.esmp.server.mailbox;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.esmp.api.MailboxEntry;
import org.esmp.api.json.JsonNumber;
import org.esmp.api.json.JsonObject;
import org.esmp.json.JsonWriter;

/**
 * The {@code deliver} frame of a mailbox entry (ESMP/1 section 3),
 * {@code {"type":"deliver","cursor":N,"id":…,"from":…,"received_at":…,["group_id":…,"seq":…,]"message":{…}}},
 * in two parts: a small head naming the cursor, which differs for each mailbox the entry went to,
 * and the tail, everything after the cursor, which is the same for all of them and so is encoded
 * once per message ({@link EncodedEntry}) and shared by every connection it is written to.
 */
final class Deliveries {

  private static final byte[] HEAD = "{\"type\":\"deliver\",\"cursor\":".getBytes(StandardCharsets.US_ASCII);
  /** The head of an entry not stored (an ephemeral message): {@code "cursor":null}. */
  private static final byte[] HEAD_NO_CURSOR = "{\"type\":\"deliver\",\"cursor\":null,".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] NEWLINE = {'\n'};

  private Deliveries() {}

  /**
   * The tail of {@code entry}'s frame, as the JSON object
   * {@code {"id":…,"from":…,"received_at":…,["group_id":…,"seq":…,]"message":{…}}}: its members
   * follow the head's cursor, and its opening brace is left out when it is written ({@link #frame}).
   * The entry's cursor is not in it.
   */
  static byte[] tail(MailboxEntry entry) {
    JsonObject.Builder tail = JsonObject.builder()
        .put("id", entry.id().hex())
        .put("from", entry.from().toString())
        .put("received_at", entry.receivedAt());
    entry.groupId().ifPresent(group -> tail.put("group_id", group));
    entry.seq().ifPresent(seq -> tail.put("seq", seq));
    tail.put("message", entry.message());
    return JsonWriter.write(tail.build());
  }

  /**
   * The whole frame with its newline: the head for {@code cursor} (0: an entry not stored, written
   * {@code null}), then {@code tail} (from {@link #tail}) without its opening brace, not copied:
   * every frame made from one tail shares its bytes.
   *
   * @throws IllegalArgumentException when {@code cursor} is negative or beyond 2^53−1
   */
  static ByteBuf frame(long cursor, byte[] tail) {
    return Unpooled.wrappedBuffer(Unpooled.wrappedBuffer(head(cursor)),
        Unpooled.wrappedBuffer(tail, 1, tail.length - 1), Unpooled.wrappedBuffer(NEWLINE));
  }

  /**
   * The frame of an entry not stored ({@code "cursor":null}) made from {@code tail}, copied into one
   * array, without its newline.
   */
  static byte[] liveFrame(byte[] tail) {
    byte[] frame = new byte[HEAD_NO_CURSOR.length + tail.length - 1];
    System.arraycopy(HEAD_NO_CURSOR, 0, frame, 0, HEAD_NO_CURSOR.length);
    System.arraycopy(tail, 1, frame, HEAD_NO_CURSOR.length, tail.length - 1);
    return frame;
  }

  /**
   * Whether {@code frame} (without its newline) looks like one made by {@link #liveFrame}: it starts
   * as one, ends with a brace and holds no newline, so that written with a newline it is one frame.
   * Not a parse: a check that costs one pass over the bytes, for frames from another server.
   */
  static boolean isLiveFrame(byte[] frame) {
    if (frame.length <= HEAD_NO_CURSOR.length || frame[frame.length - 1] != '}') {
      return false;
    }
    for (int i = 0; i < HEAD_NO_CURSOR.length; i++) {
      if (frame[i] != HEAD_NO_CURSOR[i]) {
        return false;
      }
    }
    for (byte b : frame) {
      if (b == '\n' || b == '\r') {
        return false;
      }
    }
    return true;
  }

  /** A frame made by {@link #liveFrame}, with its newline, not copied. */
  static ByteBuf liveFrameWithNewline(byte[] frame) {
    return Unpooled.wrappedBuffer(Unpooled.wrappedBuffer(frame), Unpooled.wrappedBuffer(NEWLINE));
  }

  /** The frame of an entry read back from the storage, not shared: its cursor and tail at once. */
  static ByteBuf frame(MailboxEntry entry) {
    return frame(entry.cursor(), tail(entry));
  }

  /** {@code {"type":"deliver","cursor":N,} with the member separator after the cursor. */
  private static byte[] head(long cursor) {
    if (cursor == 0) {
      return HEAD_NO_CURSOR;
    }
    if (cursor < 0 || cursor > JsonNumber.MAX_SAFE_INTEGER) {
      throw new IllegalArgumentException("not a cursor: " + cursor);
    }
    String digits = Long.toString(cursor);
    byte[] head = new byte[HEAD.length + digits.length() + 1];
    System.arraycopy(HEAD, 0, head, 0, HEAD.length);
    for (int i = 0; i < digits.length(); i++) {
      head[HEAD.length + i] = (byte) digits.charAt(i);
    }
    head[head.length - 1] = ',';
    return head;
  }
}
