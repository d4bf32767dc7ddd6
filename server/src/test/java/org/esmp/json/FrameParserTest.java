package org.esmp.json;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import java.util.List;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonBoolean;
import org.esmp.api.json.JsonNull;
import org.esmp.api.json.JsonNumber;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FrameParserTest {

  private static final FrameParser PARSER = new FrameParser();

  // --- what is accepted, and as what

  @Test
  void buildsTheApiModelKeepingMemberOrder() {
    JsonObject o =
        parse("{\"type\":\"text\",\"to\":[\"a#b.c\",1,true,false,null],\"body\":{\"x\":-2.5}}");
    assertEquals(List.of("type", "to", "body"), List.copyOf(o.names()));
    assertEquals(new JsonString("text"), o.get("type"));
    assertEquals(
        JsonArray.of(
            new JsonString("a#b.c"),
            JsonNumber.of(1),
            JsonBoolean.TRUE,
            JsonBoolean.FALSE,
            JsonNull.INSTANCE),
        o.get("to"));
    assertEquals(new JsonNumber(-2.5), o.get("body").asObject().get("x"));
  }

  @Test
  void acceptsJsonWhitespaceAroundAndInside() {
    assertEquals(JsonObject.empty(), parse(" \t\r\n{ } \r\n\t "));
    assertEquals(1, parse("{ \"a\" :\n[ 1 ,\t2 ] }").size());
  }

  @Test
  void readsOnlyTheGivenSlice() {
    byte[] buf = "garbage{\"a\":1}garbage".getBytes(UTF_8);
    assertEquals(JsonNumber.of(1), PARSER.parse(buf, 7, 7).get("a"));
  }

  @Test
  void decodesEscapes() {
    assertEquals(
        "\"\\/\b\f\n\r\t\u0000é😀",
        parse("{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000\\u00e9\\ud83d\\ude00\"}")
            .string("s")
            .orElseThrow());
  }

  @Test
  void acceptsAnEscapedSurrogatePairInStringsAndKeys() {
    JsonObject o = parse("{\"\\uD834\\uDD1E\":\"\\ud83d\\ude00\"}");
    assertEquals("😀", o.string("\uD834\uDD1E").orElseThrow());
  }

  @ParameterizedTest
  @ValueSource(strings = {"é", "€", "😀", "\uFFFF", "\uDBFF\uDFFF", "\u2028", "\uFEFF"})
  void acceptsWellFormedUtf8(String text) {
    assertEquals(text, parse("{\"" + text + "\":\"" + text + "\"}").string(text).orElseThrow());
  }

  @ParameterizedTest
  @ValueSource(strings = {"9007199254740991", "-9007199254740991", "0", "-0", "123"})
  void acceptsSafeIntegers(String literal) {
    assertEquals(
        Long.parseLong(literal), ((JsonNumber) parse("{\"n\":" + literal + "}").get("n")).longValue());
  }

  @Test
  void acceptsNumbersThatAreExactlyDoublesAndCanonicalizesThem() {
    JsonObject o = parse("{\"a\":1.0,\"b\":1E21,\"c\":1e-6,\"d\":-0,\"e\":-0.0,\"f\":2.50}");
    assertEquals(
        "{\"a\":1,\"b\":1e+21,\"c\":0.000001,\"d\":0,\"e\":0,\"f\":2.5}",
        new String(JsonWriter.canonical(o), UTF_8));
  }

  @Test
  void acceptsLargeNumbersWhoseCanonicalFormIsAnExponentOrAFraction() {
    // Whole doubles from 2^53 to 10^21 would canonicalize to a refused integer literal (see
    // JsonWriterTest); from 10^21 on, and below 2^53, doubles are plainly accepted.
    assertEquals(new JsonNumber(9007199254740991.0), parse("{\"n\":9007199254740991.0}").get("n"));
    assertEquals(new JsonNumber(1e21), parse("{\"n\":1E21}").get("n"));
    assertEquals(new JsonNumber(12345678901234567.5e-2), parse("{\"n\":12345678901234567.5e-2}").get("n"));
    assertEquals(new JsonNumber(1e300), parse("{\"n\":1e300}").get("n"));
    assertEquals(
        new JsonNumber(Double.MAX_VALUE), parse("{\"n\":1.7976931348623157e308}").get("n"));
  }

  @Test
  void acceptsAnUnderflowAsZero() {
    assertEquals(new JsonNumber(0), parse("{\"n\":1e-400}").get("n"));
  }

  @Test
  void acceptsTheExactDecimalOfAnyDouble() {
    // The longest exact decimals, ~770 chars, fit the number length limit.
    // (Not Double.MAX_VALUE: its exact decimal is an integer literal, refused beyond 2^53-1.)
    for (double d : new double[] {Double.MIN_VALUE, Double.MIN_NORMAL, 0.1, Math.nextDown(1.0)}) {
      String exact = new java.math.BigDecimal(d).toString();
      assertEquals(new JsonNumber(d), parse("{\"n\":" + exact + "}").get("n"));
    }
  }

  @Test
  void refusesNumberLiteralsLongerThanTheLimit() {
    assertEquals(new JsonNumber(0), parse("{\"n\":0." + "0".repeat(997) + "1}").get("n"));
    assertRefused("{\"n\":0." + "0".repeat(1_100) + "1}", "exceeds the parser's limits");
    assertRefused("{\"n\":1" + "0".repeat(1_100) + "e-1100}", "exceeds the parser's limits");
  }

  @Test
  void acceptsKeysAsLongAsTheFrameAllows() {
    String key = "k".repeat(60_000);
    assertTrue(parse("{\"" + key + "\":1}").has(key));
  }

  @Test
  void acceptsNestingUpToTheLimit() {
    assertEquals(1, parse(nested(64, '[')).size());
    assertEquals(1, parse(nested(64, '{')).size());
    assertEquals(1, new FrameParser(2).parse(bytes("{\"a\":[]}"), 0, 8).size());
  }

  // --- I-JSON rules

  @Test
  void refusesNestingBeyondTheLimit() {
    assertRefused(nested(65, '['), "nesting deeper than 64");
    assertRefused(nested(65, '{'), "nesting deeper than 64");
    assertRefused(nested(10_000, '['), "nesting deeper than 64");
    byte[] three = bytes("{\"a\":[{}]}");
    BadJsonException e =
        assertThrows(BadJsonException.class, () -> new FrameParser(2).parse(three, 0, three.length));
    assertEquals("nesting deeper than 2", e.getMessage());
  }

  @Test
  void refusesADepthLimitItCannotHonour() {
    assertThrows(IllegalArgumentException.class, () -> new FrameParser(0));
    assertThrows(IllegalArgumentException.class, () -> new FrameParser(1001));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{\"a\":1,\"a\":1}",
        "{\"a\":1,\"b\":2,\"a\":3}",
        "{\"x\":{\"a\":1,\"a\":2}}",
        "{\"x\":[1,{\"a\":null,\"a\":null}]}",
        "{\"a\":1,\"\\u0061\":2}",
        "{\"\\ud83d\\ude00\":1,\"😀\":2}"
      })
  void refusesDuplicateKeysAtAnyDepth(String json) {
    assertRefused(json, "duplicate key");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{\"s\":\"\\ud800\"}",
        "{\"s\":\"\\udc00\"}",
        "{\"s\":\"\\udc00\\ud800\"}",
        "{\"s\":\"\\ud800a\"}",
        "{\"s\":\"a\\ud800\\ud800\"}",
        "{\"s\":\"\\ud800\\n\"}",
        "{\"é\":\"\\ud800\"}",
        "{\"s\":[\"ok\",\"€\\udc00\"]}"
      })
  void refusesLoneSurrogateEscapes(String json) {
    assertRefused(json, "lone surrogate escape");
  }

  /** In keys Jackson itself catches some of these (with its own reason); all must be refused. */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "{\"\\ud800\":0}",
        "{\"\\ud800a\":0}",
        "{\"\\udfaa\":0}",
        "{\"\\udc00\\ud800\":0}",
        "{\"x\":{\"a\\udbff\":0}}"
      })
  void refusesLoneSurrogateEscapesInKeys(String json) {
    assertRefused(json, null);
  }

  @Test
  void findsALoneSurrogateEscapeWhereverItsBackslashFalls() {
    // The scan for a backslash reads eight bytes at a time: try every alignment.
    for (int pad = 0; pad < 17; pad++) {
      String p = "x".repeat(pad);
      assertRefused("{\"" + p + "\":\"\\ud800\"}", "lone surrogate escape");
      assertRefused("{\"" + p + "é\":\"\\ud800\"}", "lone surrogate escape");
      assertRefused("{\"" + p + "\":\"\\ud800\",\"é\":1}", "lone surrogate escape");
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "9007199254740992",
        "-9007199254740992",
        "9007199254740993",
        "99999999999999999",
        "12345678901234567890",
        "100000000000000000000000000000000000000000000000000000000000000000000"
      })
  void refusesIntegerLiteralsBeyondTwoToThe53MinusOne(String literal) {
    assertRefused("{\"n\":" + literal + "}", "integer beyond 2^53-1");
  }

  @ParameterizedTest
  @ValueSource(strings = {"1e400", "-1e400", "1.7976931348623159e308", "123123e100000"})
  void refusesNumbersBeyondTheDoubleRange(String literal) {
    assertRefused("{\"n\":" + literal + "}", "number out of double range");
  }

  /** Invalid UTF-8, as hex, placed inside a string after a short and after a long ASCII run. */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "80", // lone continuation byte
        "bf",
        "c0af", // overlong '/'
        "c180", // overlong
        "e080af", // overlong, 3 bytes
        "f08080af", // overlong, 4 bytes
        "eda080", // encoded surrogate U+D800
        "edbfbf", // encoded surrogate U+DFFF
        "eda0bdedb880", // surrogate pair encoded as two 3-byte forms (CESU-8)
        "f4908080", // above U+10FFFF
        "f5808080",
        "f8888080 80",
        "fc8080808080",
        "fe",
        "ff",
        "c3", // truncated 2-byte
        "e282", // truncated 3-byte
        "f09f98", // truncated 4-byte
        "c328", // bad continuation
        "e228a1",
        "e9" // ISO-8859-1 é
      })
  void refusesInvalidUtf8(String hex) {
    byte[] bad = HexFormat.of().parseHex(hex.replace(" ", ""));
    assertRefused(frameWith("\"", bad, "\"}"), "UTF-8");
    assertRefused(frameWith("\"" + "x".repeat(40), bad, "\"}"), "UTF-8");
    assertRefused(frameWith("", bad, "\":1}"), "UTF-8");
  }

  @Test
  void refusesUtf8TruncatedAtTheEndOfTheFrame() {
    assertRefused(frameWith("\"}", HexFormat.of().parseHex("e282"), ""), "truncated UTF-8");
  }

  @Test
  void refusesAByteOrderMark() {
    assertRefused(("\uFEFF{}").getBytes(UTF_8), "byte order mark");
  }

  @Test
  void refusesUtf16AndNulBytes() {
    assertRefused("{\"a\":1}".getBytes(java.nio.charset.StandardCharsets.UTF_16LE), "NUL byte");
    assertRefused("{\"a\":1}".getBytes(java.nio.charset.StandardCharsets.UTF_16BE), "NUL byte");
    assertRefused("{\"a\":\"\u0000\"}".getBytes(UTF_8), "malformed JSON");
    assertRefused("{\"a\":1}\u0000".getBytes(UTF_8), null);
  }

  // --- not one object

  @ParameterizedTest
  @ValueSource(strings = {"[]", "[{}]", "\"s\"", "1", "true", "null", "", " ", "\r\n"})
  void refusesAnythingButAnObject(String json) {
    assertRefused(json, "frame is not a JSON object");
  }

  @ParameterizedTest
  @ValueSource(strings = {"{}x", "{} {}", "{}[]", "{} 1", "{}}", "{},", "{} //", "{}\u00a0"})
  void refusesContentAfterTheObject(String json) {
    assertRefused(json, null);
  }

  @ParameterizedTest
  @ValueSource(strings = {"{", "{\"a\"", "{\"a\":", "{\"a\":1", "{\"a\":[1", "{\"a\":\"x"})
  void refusesTruncatedJson(String json) {
    assertRefused(json, null);
  }

  // --- non-standard JSON

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{/*c*/}",
        "{\"a\":1//c\n}",
        "{\"a\":1#c\n}",
        "{'a':1}",
        "{\"a\":'b'}",
        "{a:1}",
        "{\"a\":NaN}",
        "{\"a\":Infinity}",
        "{\"a\":-Infinity}",
        "{\"a\":01}",
        "{\"a\":-01}",
        "{\"a\":00.5}",
        "{\"a\":+1}",
        "{\"a\":.5}",
        "{\"a\":1.}",
        "{\"a\":1e}",
        "{\"a\":0x10}",
        "{\"a\":1,}",
        "{\"a\":[1,]}",
        "{\"a\":[,1]}",
        "{,}",
        "{\"a\" 1}",
        "{\"a\":1 \"b\":2}",
        "{\"a\":\"\\x\"}",
        "{\"a\":\"\\u00G0\"}",
        "{\"a\":\"\\'\"}",
        "{\"a\":\"tab\there\"}",
        "{\"a\":\"line\nbreak\"}",
        "{\"a\":True}",
        "{\"a\":nul}",
        "{\"a\":undefined}",
        "{\f}",
        "{\u00a0}",
        "{\"a\":1}\u000b"
      })
  void refusesNonStandardJson(String json) {
    assertRefused(json, null);
  }

  @Test
  void keepsFrameContentOutOfItsMessages() {
    for (String json :
        List.of("{\"secret\":tru}", "{\"secret\":\"x\",\"secret\":1}", "{\"secret\":'x'}")) {
      BadJsonException e = assertThrows(BadJsonException.class, () -> parse(json));
      assertFalse(e.getMessage().contains("secret"), e.getMessage());
      assertEquals(0, e.getStackTrace().length);
    }
  }

  // --- helpers

  private static JsonObject parse(String json) {
    byte[] b = bytes(json);
    return PARSER.parse(b, 0, b.length);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(UTF_8);
  }

  /** {@code {"a":[[…[1]…]]}} or {@code {"a":{"a":…{"a":1}…}}} with {@code depth} levels in all. */
  private static String nested(int depth, char kind) {
    StringBuilder s = new StringBuilder("{\"a\":");
    for (int i = 1; i < depth; i++) {
      s.append(kind == '[' ? "[" : "{\"a\":");
    }
    s.append('1');
    s.append((kind == '[' ? "]" : "}").repeat(depth - 1));
    return s.append('}').toString();
  }

  private static byte[] frameWith(String before, byte[] middle, String after) {
    byte[] head = bytes("{\"k\":" + before);
    if (before.isEmpty()) {
      head = bytes("{\"");
    }
    byte[] tail = after.getBytes(ISO_8859_1);
    byte[] out = new byte[head.length + middle.length + tail.length];
    System.arraycopy(head, 0, out, 0, head.length);
    System.arraycopy(middle, 0, out, head.length, middle.length);
    System.arraycopy(tail, 0, out, head.length + middle.length, tail.length);
    return out;
  }

  private static void assertRefused(String json, String reason) {
    assertRefused(bytes(json), reason);
  }

  /** Refused, and when {@code reason} is given, with a message containing it. */
  private static void assertRefused(byte[] json, String reason) {
    BadJsonException e =
        assertThrows(BadJsonException.class, () -> PARSER.parse(json, 0, json.length));
    if (reason != null) {
      assertTrue(e.getMessage().contains(reason), () -> "message was: " + e.getMessage());
    }
  }
}
