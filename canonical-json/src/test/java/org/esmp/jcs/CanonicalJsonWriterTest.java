package org.esmp.jcs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class CanonicalJsonWriterTest {

  @Test
  void placesCommasAndColonsBetweenTokensAtEveryDepth() {
    CanonicalJsonWriter w = new CanonicalJsonWriter()
        .beginObject()
        .name("a").beginArray().number(1L).beginObject().endObject().beginArray().endArray()
        .nullValue().endArray()
        .name("b").beginObject().name("c").bool(true).name("d").bool(false).endObject()
        .name("e").string("x")
        .endObject();
    assertEquals("{\"a\":[1,{},[],null],\"b\":{\"c\":true,\"d\":false},\"e\":\"x\"}", utf8(w));
  }

  @Test
  void writesLiteralsAndEmptyContainers() {
    CanonicalJsonWriter w = new CanonicalJsonWriter().beginArray()
        .nullValue().bool(true).bool(false).beginObject().endObject().beginArray().endArray()
        .endArray();
    assertEquals("[null,true,false,{},[]]", utf8(w));
  }

  @Test
  void sortsMembersByUtf16CodeUnitsNotCodePoints() {
    // U+1F600 is D83D DE00 in UTF-16, so it sorts before U+FB33 although its code point is larger.
    assertEquals(List.of("\u20AC", "\uD83D\uDE00", "\uFB33"), sorted(List.of("\uFB33", "\uD83D\uDE00", "\u20AC")));
    assertEquals(List.of("A", "a", "b", "ä"), sorted(List.of("b", "ä", "a", "A")));
  }

  @Test
  void sortMembersLeavesTheSkippedNamesBeyondTheCount() {
    List<String> names = List.of("type", "signature", "to", "sender_pubkey", "body");
    assertEquals(List.of("body", "to", "type"), sorted(names, "signature", "sender_pubkey"));
    assertEquals(List.of("b", "c"), sorted(List.of("c", "b", "a"), "a"));
    assertEquals(List.of("a", "b"), sorted(List.of("c", "b", "a"), "c"));
    assertEquals(List.of(), sorted(List.of("c", "b", "a"), "a", "b", "c"));
    assertEquals(List.of("b"), sorted(List.of("b", "a"), "a", "absent", "a"));

    String[] order = {"c", "signature", "a", "sender_pubkey", "b"};
    assertEquals(3, CanonicalJsonWriter.sortMembers(order, "signature", "sender_pubkey"));
    assertEquals(Set.of("signature", "sender_pubkey"), Set.of(order[3], order[4]));
  }

  @Test
  void sortMembersWithAbsentOrNoSkippedNamesKeepsEveryName() {
    assertEquals(List.of("a", "b"), sorted(List.of("b", "a"), "absent"));
    assertEquals(List.of("a", "b"), sorted(List.of("b", "a")));
    assertEquals(List.of(), sorted(List.of()));
  }

  /** The names {@link CanonicalJsonWriter#sortMembers} says to write, in its order. */
  private static List<String> sorted(List<String> names, String... skip) {
    String[] order = names.toArray(new String[0]);
    int count = CanonicalJsonWriter.sortMembers(order, skip);
    return List.of(order).subList(0, count);
  }

  @Test
  void escapesOnlyWhatJcsRequires() {
    String s = "\"\\/\b\f\n\r\t\u0000\u001f\u007f\u0080\u2028é€😀";
    assertEquals("\"\\\"\\\\/\\b\\f\\n\\r\\t\\u0000\\u001f\u007f\u0080\u2028é€😀\"",
        utf8(new CanonicalJsonWriter().string(s)));
  }

  @Test
  void escapesMemberNamesLikeStrings() {
    assertEquals("{\"\\n\\u0001\\\"\":0}",
        utf8(new CanonicalJsonWriter().beginObject().name("\n\u0001\"").number(0L).endObject()));
  }

  @Test
  void escapesEveryOtherControlCharacterAsLowercaseHex() {
    StringBuilder in = new StringBuilder();
    StringBuilder out = new StringBuilder("\"");
    for (char c = 0; c < 0x20; c++) {
      in.append(c);
      out.append(switch (c) {
        case '\b' -> "\\b";
        case '\f' -> "\\f";
        case '\n' -> "\\n";
        case '\r' -> "\\r";
        case '\t' -> "\\t";
        default -> String.format("\\u%04x", (int) c);
      });
    }
    out.append('"');
    assertEquals(out.toString(), utf8(new CanonicalJsonWriter().string(in.toString())));
  }

  @Test
  void encodesNonAsciiAsUtf8() {
    String s = "\u0080\u07ff\u0800\uffff\uD800\uDC00\uDBFF\uDFFF";
    assertArrayEquals(("\"" + s + "\"").getBytes(UTF_8), new CanonicalJsonWriter().string(s).toByteArray());
  }

  @Test
  void growsItsBufferForLongStrings() {
    String s = "a\"é😀\n".repeat(5_000);
    String expected = "[\"" + "a\\\"é😀\\n".repeat(5_000) + "\",1]";
    assertArrayEquals(expected.getBytes(UTF_8),
        new CanonicalJsonWriter().beginArray().string(s).number(1L).endArray().toByteArray());
  }

  @ParameterizedTest
  @ValueSource(strings = {"a\uD800", "\uDC00\uD800", "\uD800a", "\uDC00"})
  void refusesALoneSurrogate(String s) {
    assertThrows(IllegalArgumentException.class, () -> new CanonicalJsonWriter().string(s));
    assertThrows(IllegalArgumentException.class, () -> new CanonicalJsonWriter().beginObject().name(s));
  }

  @ParameterizedTest
  @CsvSource({
    "0, 0",
    "-0.0, 0",
    "1, 1",
    "-1, -1",
    "1.5, 1.5",
    "0.1, 0.1",
    "9007199254740991, 9007199254740991",
    "-9007199254740991, -9007199254740991",
    "9007199254740992, 9007199254740992",
    "1152921504606846976, 1152921504606847000",
    "1e21, 1e+21",
    "1e20, 100000000000000000000",
    "1e-6, 0.000001",
    "1e-7, 1e-7",
    "333333333.33333329, 333333333.3333333",
    "5e-324, 5e-324",
    "1.7976931348623157e308, 1.7976931348623157e+308",
    "-1.5e-10, -1.5e-10",
  })
  void writesNumbersAsEcmaScriptDoes(double value, String expected) {
    assertEquals(expected, utf8(new CanonicalJsonWriter().number(value)));
  }

  @ParameterizedTest
  @ValueSource(doubles = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY})
  void refusesNumbersJsonCannotHold(double value) {
    assertThrows(IllegalArgumentException.class, () -> new CanonicalJsonWriter().number(value));
  }

  @ParameterizedTest
  @ValueSource(longs = {0, 1, -1, 1_764_000_000_003L, 9007199254740991L, -9007199254740991L})
  void writesIntegersWithinTwoToThe53AsTheirDigits(long value) {
    assertEquals(Long.toString(value), utf8(new CanonicalJsonWriter().number(value)));
  }

  @ParameterizedTest
  @ValueSource(longs = {9007199254740992L, -9007199254740992L, Long.MAX_VALUE, Long.MIN_VALUE})
  void refusesIntegersBeyondTwoToThe53(long value) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new CanonicalJsonWriter().number(value));
    assertEquals("integer beyond ±(2^53-1): " + value, e.getMessage());
  }

  private static String utf8(CanonicalJsonWriter w) {
    return new String(w.toByteArray(), UTF_8);
  }
}
