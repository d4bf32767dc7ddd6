package org.esmp.server.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link Lines}: line endings, lines split across reads, the length limit, and what a started line holds. */
class LinesTest {

  private final Lines lines = new Lines(10);
  private final List<String> out = new ArrayList<>();

  private boolean feed(String text) {
    ByteBuf bytes = Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1);
    try {
      return lines.feed(bytes, line -> out.add(new String(line, StandardCharsets.ISO_8859_1)));
    } finally {
      bytes.release();
    }
  }

  @Test
  void splitsOnNewlineAndStripsOneCarriageReturn() {
    assertTrue(feed("a\nbc\r\n\n\r\nd\r\r\n"));
    assertEquals(List.of("a", "bc", "", "", "d\r"), out);
    assertEquals(0, lines.held());
  }

  @Test
  void joinsALineSplitAcrossReadsEvenBetweenItsCarriageReturnAndNewline() {
    assertTrue(feed("ab"));
    assertTrue(feed("cd\r"));
    assertEquals(List.of(), out);
    assertTrue(feed("\nef"));
    assertEquals(List.of("abcd"), out);
    assertTrue(feed("\n"));
    assertEquals(List.of("abcd", "ef"), out);
  }

  @Test
  void acceptsALineOfExactlyTheLimitWhoseCarriageReturnComesLast() {
    assertTrue(feed("0123456789"));
    assertTrue(feed("\r"), "the '\\r' may belong to the ending");
    assertTrue(feed("\n"));
    assertEquals(List.of("0123456789"), out);
  }

  @Test
  void refusesALineOverTheLimitAsSoonAsItIsOver() {
    assertTrue(feed("0123456789"));
    assertTrue(feed("x"), "one byte of slack for a '\\r'");
    assertFalse(feed("y"), "refused before its end arrives");
    Lines fresh = new Lines(10);
    ByteBuf whole = Unpooled.copiedBuffer("0123456789x\n", StandardCharsets.US_ASCII);
    assertFalse(fresh.feed(whole, line -> out.add("?")), "11 bytes then a newline is too long");
    whole.release();
    assertEquals(List.of(), out);
  }

  @Test
  void aStartedLineHoldsAnArrayOfAboutItsSizeNotTheReadBuffer() {
    Lines large = new Lines(65_536);
    ByteBuf read = Unpooled.buffer(65_536);
    read.writeBytes(new byte[] {'{', '"'});
    assertTrue(large.feed(read, line -> out.add("?")));
    read.release();
    assertEquals(2, large.held(), "two bytes started, two held");
    ByteBuf more = Unpooled.copiedBuffer("a".repeat(1000), StandardCharsets.US_ASCII);
    assertTrue(large.feed(more, line -> out.add("?")));
    more.release();
    assertTrue(large.held() >= 1002 && large.held() <= 2004, "grows by doubling at most: " + large.held());
    large.clear();
    assertEquals(0, large.held());
  }
}
