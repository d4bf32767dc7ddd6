package org.esmp.server.json;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonNumber;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonValue;

/**
 * Coverage-guided fuzzing of {@link JsonWriter} against {@link FrameParser}: whatever the parser
 * accepts, written canonically (and in insertion order) and parsed again, is an equal value, and
 * canonical writing is idempotent.
 *
 * <p>One known exception, found by this target: a fraction or exponent literal whose double is a
 * whole number of magnitude 2^53 to 10^21 ({@code 1.0e18}) is accepted (docs/PROTOCOL.md), but
 * RFC 8785 writes it as an integer literal beyond 2^53−1, which the parser refuses. Such values
 * are skipped here; {@code JsonWriterTest} pins the behaviour.
 */
class JsonWriterFuzzTest {

  /** ECMAScript, and so RFC 8785, writes whole numbers below 10^21 without an exponent. */
  private static final double FIRST_EXPONENT_FORM = 1e21;

  private final FrameParser parser = new FrameParser();

  @FuzzTest
  void canonicalFormParsesBackToTheSameValue(byte[] frame) {
    JsonObject value;
    try {
      value = parser.parse(frame, 0, frame.length);
    } catch (BadJsonException refused) {
      return;
    }
    if (holdsWholeNumberBeyondSafeIntegers(value)) {
      return;
    }
    byte[] canonical = JsonWriter.canonical(value);
    JsonObject again = parser.parse(canonical, 0, canonical.length);
    assertEquals(value, again);
    assertArrayEquals(canonical, JsonWriter.canonical(again));

    byte[] ordered = JsonWriter.write(value);
    assertEquals(value, parser.parse(ordered, 0, ordered.length));
  }

  private static boolean holdsWholeNumberBeyondSafeIntegers(JsonValue value) {
    if (value instanceof JsonNumber n) {
      double magnitude = Math.abs(n.value());
      return magnitude > JsonNumber.MAX_SAFE_INTEGER && magnitude < FIRST_EXPONENT_FORM;
    } else if (value instanceof JsonObject o) {
      return o.members().values().stream().anyMatch(JsonWriterFuzzTest::holdsWholeNumberBeyondSafeIntegers);
    } else if (value instanceof JsonArray a) {
      for (JsonValue item : a) {
        if (holdsWholeNumberBeyondSafeIntegers(item)) {
          return true;
        }
      }
    }
    return false;
  }
}
