package org.esmp.server.mailbox;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.OptionalLong;
import org.esmp.api.Address;
import org.esmp.api.MailboxEntry;
import org.esmp.api.MessageId;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonNull;
import org.esmp.api.json.JsonNumber;
import org.esmp.api.json.JsonObject;
import org.esmp.json.JsonWriter;
import org.junit.jupiter.api.Test;

/**
 * The {@code deliver} frame written as a head per mailbox and a tail shared by all: byte for byte
 * the frame encoded whole, as the server wrote it before the tail was shared.
 */
class DeliveriesTest {

  private static final MessageId ID = new MessageId("ab".repeat(32));
  private static final Address FROM = Address.parse("alice#example.com");
  /** Non-ASCII (two-, three- and four-byte UTF-8), and characters JSON escapes. */
  private static final String TEXT = "héllo 世界 🎉 \"quoted\" back\\slash\nnew line\ttab \u0001 </script>";
  private static final JsonObject MESSAGE = JsonObject.builder()
      .put("type", "text")
      .put("to", JsonArray.ofStrings(java.util.List.of("bob#example.com", "zoë#example.com")))
      .put("body", JsonObject.builder().put("text", TEXT).put("n", new JsonNumber(1.5)).put("ok", true).put("none", JsonNull.INSTANCE)
          .build())
      .put("ts", 1_764_000_000_000L)
      .put("sender_pubkey", "AAAA")
      .put("signature", "BBBB")
      .build();

  @Test
  void aDirectEntryIsWrittenAsTheWholeFrame() {
    MailboxEntry entry = MailboxEntry.direct(ID, FROM, 1_764_000_000_123L, MESSAGE);
    assertSameBytes(entry.withCursor(1), new EncodedEntry(entry).frame(1));
    assertSameBytes(entry.withCursor(9_007_199_254_740_991L), new EncodedEntry(entry).frame(9_007_199_254_740_991L));
  }

  @Test
  void aGroupEntryIsWrittenAsTheWholeFrame() {
    MailboxEntry entry = new MailboxEntry(0, ID, FROM, 1_764_000_000_123L,
        MESSAGE.toBuilder().put("group_id", "gröup-1").build(), Optional.of("gröup-1"), OptionalLong.of(42));
    assertSameBytes(entry.withCursor(12_345), new EncodedEntry(entry).frame(12_345));
  }

  @Test
  void anEntryNotStoredHasANullCursor() {
    MailboxEntry live = new MailboxEntry(0, ID, FROM, 1_764_000_000_123L, MESSAGE, Optional.of("g"),
        OptionalLong.empty());
    assertSameBytes(live, new EncodedEntry(live).frame(0));
  }

  @Test
  void anEntryReadBackIsWrittenAsTheWholeFrame() {
    MailboxEntry stored = MailboxEntry.direct(ID, FROM, 7, MESSAGE).withCursor(77);
    assertSameBytes(stored, Deliveries.frame(stored));
  }

  @Test
  void everyMailboxSharesTheTailOfOneEncoding() {
    EncodedEntry shared = new EncodedEntry(MailboxEntry.direct(ID, FROM, 7, MESSAGE));
    ByteBuf first = shared.frame(3);
    ByteBuf second = shared.frame(40_000);
    assertSame(tailArray(first), tailArray(second), "one encoding, not copied into either frame");
    first.release();
    second.release();
  }

  @Test
  void theLiveFrameForOtherServersIsTheWholeNullCursorFrameWithoutItsNewline() {
    MailboxEntry live = new MailboxEntry(0, ID, FROM, 1_764_000_000_123L, MESSAGE, Optional.of("g"),
        OptionalLong.empty());
    byte[] frame = new EncodedEntry(live).liveFrame();
    byte[] whole = wholeFrame(live);
    assertArrayEquals(java.util.Arrays.copyOf(whole, whole.length - 1), frame);
    assertTrue(Deliveries.isLiveFrame(frame));
    assertSameBytes(live, Deliveries.liveFrameWithNewline(frame));
  }

  @Test
  void aFrameFromAnotherServerThatIsNotOneNullCursorDeliverLineIsRefused() {
    byte[] frame = new EncodedEntry(MailboxEntry.direct(ID, FROM, 7, MESSAGE)).liveFrame();
    assertTrue(Deliveries.isLiveFrame(frame));
    byte[] twoLines = (new String(frame, StandardCharsets.UTF_8) + "\n{\"type\":\"ack\"}").getBytes(StandardCharsets.UTF_8);
    assertFalse(Deliveries.isLiveFrame(twoLines));
    ByteBuf atCursor = new EncodedEntry(MailboxEntry.direct(ID, FROM, 7, MESSAGE)).frame(5);
    byte[] stored = atCursor.toString(StandardCharsets.UTF_8).strip().getBytes(StandardCharsets.UTF_8);
    atCursor.release();
    assertFalse(Deliveries.isLiveFrame(stored), "a cursor");
    assertFalse(Deliveries.isLiveFrame(java.util.Arrays.copyOf(frame, frame.length - 2)), "cut short of its braces");
    assertFalse(Deliveries.isLiveFrame(new byte[0]));
  }

  @Test
  void refusesANegativeCursor() {
    EncodedEntry entry = new EncodedEntry(MailboxEntry.direct(ID, FROM, 7, MESSAGE));
    assertThrows(IllegalArgumentException.class, () -> entry.frame(-1));
  }

  /** The frame as the server encoded it whole, before the tail was shared, and its newline. */
  private static byte[] wholeFrame(MailboxEntry entry) {
    JsonObject.Builder frame = JsonObject.builder()
        .put("type", "deliver")
        .put("cursor", entry.cursor() == 0 ? JsonNull.INSTANCE : JsonNumber.of(entry.cursor()))
        .put("id", entry.id().hex())
        .put("from", entry.from().toString())
        .put("received_at", entry.receivedAt());
    entry.groupId().ifPresent(group -> frame.put("group_id", group));
    entry.seq().ifPresent(seq -> frame.put("seq", seq));
    frame.put("message", entry.message());
    byte[] json = JsonWriter.write(frame.build());
    byte[] line = java.util.Arrays.copyOf(json, json.length + 1);
    line[json.length] = '\n';
    return line;
  }

  private static void assertSameBytes(MailboxEntry expected, ByteBuf frame) {
    try {
      assertArrayEquals(wholeFrame(expected), ByteBufUtil.getBytes(frame), () -> "frame " + frame.toString(
          java.nio.charset.StandardCharsets.UTF_8));
    } finally {
      frame.release();
    }
  }

  private static byte[] tailArray(ByteBuf frame) {
    return ((CompositeByteBuf) frame).component(1).array();
  }
}
