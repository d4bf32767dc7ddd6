package org.esmp.json;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonBoolean;
import org.esmp.api.json.JsonNull;
import org.esmp.api.json.JsonNumber;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonString;
import org.esmp.api.json.JsonValue;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class JsonWriterTest {

  private static final JsonObject MESSAGE =
      JsonObject.builder()
          .put("type", "text")
          .put("to", JsonArray.ofStrings(java.util.List.of("bob#example.com")))
          .put("body", JsonObject.builder().put("z", 1).put("a", true).build())
          .put("signature", "c2ln")
          .put("sender_pubkey", "a2V5")
          .build();

  @Test
  void canonicalSortsMembersAtEveryDepth() {
    assertEquals(
        "{\"body\":{\"a\":true,\"z\":1},\"sender_pubkey\":\"a2V5\",\"signature\":\"c2ln\","
            + "\"to\":[\"bob#example.com\"],\"type\":\"text\"}",
        utf8(JsonWriter.canonical(MESSAGE)));
  }

  @Test
  void writeKeepsInsertionOrderAtEveryDepth() {
    assertEquals(
        "{\"type\":\"text\",\"to\":[\"bob#example.com\"],\"body\":{\"z\":1,\"a\":true},"
            + "\"signature\":\"c2ln\",\"sender_pubkey\":\"a2V5\"}",
        utf8(JsonWriter.write(MESSAGE)));
  }

  @Test
  void canonicalOrdersByUtf16CodeUnitsNotCodePoints() {
    // U+1F600 is D83D DE00 in UTF-16, so it sorts before U+FB33 although its code point is larger.
    JsonObject o =
        JsonObject.builder().put("\uFB33", 1).put("\uD83D\uDE00", 2).put("\u20AC", 3).build();
    assertEquals(
        "{\"\u20AC\":3,\"\uD83D\uDE00\":2,\"\uFB33\":1}", utf8(JsonWriter.canonical(o)));
  }

  @Test
  void escapesOnlyWhatJcsRequires() {
    String s = "\"\\/\b\f\n\r\t\u0000\u001f\u007f\u0080\u2028é€😀";
    assertEquals(
        "\"\\\"\\\\/\\b\\f\\n\\r\\t\\u0000\\u001f\u007f\u0080\u2028é€😀\"",
        utf8(JsonWriter.canonical(new JsonString(s))));
  }

  @Test
  void escapesEveryOtherControlCharacterAsLowercaseHex() {
    StringBuilder in = new StringBuilder();
    StringBuilder out = new StringBuilder("\"");
    for (char c = 0; c < 0x20; c++) {
      in.append(c);
      String short_ = switch (c) {
        case '\b' -> "\\b";
        case '\f' -> "\\f";
        case '\n' -> "\\n";
        case '\r' -> "\\r";
        case '\t' -> "\\t";
        default -> String.format("\\u%04x", (int) c);
      };
      out.append(short_);
    }
    out.append('"');
    assertEquals(out.toString(), utf8(JsonWriter.canonical(new JsonString(in.toString()))));
  }

  @Test
  void encodesNonAsciiAsUtf8() {
    String s = "\u0080\u07ff\u0800\uffff\uD800\uDC00\uDBFF\uDFFF";
    assertArrayEquals(
        ("\"" + s + "\"").getBytes(UTF_8), JsonWriter.canonical(new JsonString(s)));
  }

  @Test
  void growsItsBufferForLongStrings() {
    String s = "a\"é😀\n".repeat(5_000);
    String expected = "\"" + "a\\\"é😀\\n".repeat(5_000) + "\"";
    assertArrayEquals(expected.getBytes(UTF_8), JsonWriter.write(new JsonString(s)));
  }

  @Test
  void refusesALoneSurrogate() {
    assertThrows(
        IllegalArgumentException.class, () -> JsonWriter.canonical(new JsonString("a\uD800")));
    assertThrows(
        IllegalArgumentException.class, () -> JsonWriter.write(new JsonString("\uDC00\uD800")));
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
    assertEquals(expected, utf8(JsonWriter.canonical(new JsonNumber(value))));
  }

  @Test
  void writesLiteralsAndEmptyContainers() {
    JsonArray a =
        JsonArray.of(
            JsonNull.INSTANCE,
            JsonBoolean.TRUE,
            JsonBoolean.FALSE,
            JsonObject.empty(),
            JsonArray.of());
    assertEquals("[null,true,false,{},[]]", utf8(JsonWriter.canonical(a)));
    assertEquals("[null,true,false,{},[]]", utf8(JsonWriter.write(a)));
  }

  @Test
  void canonicalWithoutSkipsTheNamedTopLevelMembers() {
    assertEquals(
        "{\"body\":{\"a\":true,\"z\":1},\"to\":[\"bob#example.com\"],\"type\":\"text\"}",
        utf8(JsonWriter.canonicalWithout(MESSAGE, "signature", "sender_pubkey")));
  }

  @Test
  void canonicalWithoutKeepsNestedMembersOfThoseNames() {
    JsonObject o =
        JsonObject.builder()
            .put("signature", "outer")
            .put("body", JsonObject.builder().put("signature", "inner").build())
            .build();
    assertEquals(
        "{\"body\":{\"signature\":\"inner\"}}", utf8(JsonWriter.canonicalWithout(o, "signature")));
  }

  @Test
  void canonicalWithoutPlacesCommasRightWhenTheFirstOrLastMemberIsSkipped() {
    JsonObject o = JsonObject.builder().put("c", 3).put("b", 2).put("a", 1).build();
    assertEquals("{\"b\":2,\"c\":3}", utf8(JsonWriter.canonicalWithout(o, "a")));
    assertEquals("{\"a\":1,\"b\":2}", utf8(JsonWriter.canonicalWithout(o, "c")));
    assertEquals("{}", utf8(JsonWriter.canonicalWithout(o, "a", "b", "c")));
  }

  @Test
  void canonicalWithoutAbsentOrNoNamesIsCanonical() {
    assertArrayEquals(JsonWriter.canonical(MESSAGE), JsonWriter.canonicalWithout(MESSAGE));
    assertArrayEquals(
        JsonWriter.canonical(MESSAGE), JsonWriter.canonicalWithout(MESSAGE, "absent"));
  }

  @Test
  void canonicalOfParsedOutputIsStable() {
    FrameParser parser = new FrameParser();
    byte[] once = JsonWriter.canonical(MESSAGE);
    JsonValue again = parser.parse(once, 0, once.length);
    assertArrayEquals(once, JsonWriter.canonical(again));
    byte[] written = JsonWriter.write(MESSAGE);
    assertEquals(MESSAGE, parser.parse(written, 0, written.length));
  }

  /**
   * Found by {@link JsonWriterFuzzTest} (input {@code crash-whole-double-1e18}): RFC 8785 writes a
   * whole double from 2^53 to 10^21 as an integer literal beyond 2^53−1, which the parser refuses,
   * so the parser refuses such doubles in the first place: every value it accepts round-trips.
   */
  @Test
  void wholeDoublesWhoseCanonicalFormIsAnIntegerBeyondTwoToThe53AreRefused() {
    FrameParser parser = new FrameParser();
    for (String number : List.of("1.0e+18", "9007199254740992.0", "9007199254740993.0", "-1e20", "9.99e20")) {
      byte[] frame = ("{ \"n\": " + number + " }").getBytes(UTF_8);
      BadJsonException refused = assertThrows(BadJsonException.class, () -> parser.parse(frame, 0, frame.length),
          number);
      assertEquals("number whose canonical form is an integer beyond 2^53-1", refused.getMessage());
    }
    for (String number : List.of("9007199254740991.0", "1e21", "1.5e-7", "-1e21", "1e300", "123456789.25")) {
      byte[] frame = ("{ \"n\": " + number + " }").getBytes(UTF_8);
      byte[] canonical = JsonWriter.canonical(parser.parse(frame, 0, frame.length));
      assertEquals(parser.parse(frame, 0, frame.length), parser.parse(canonical, 0, canonical.length), number);
    }
  }

  private static String utf8(byte[] bytes) {
    return new String(bytes, UTF_8);
  }
}
