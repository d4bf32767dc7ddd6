package org.esmp.json;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.esmp.api.json.JsonObject;

/**
 * Coverage-guided fuzzing of {@link JsonWriter} against {@link FrameParser}: whatever the parser
 * accepts, written canonically (and in insertion order) and parsed again, is an equal value, and
 * canonical writing is idempotent.
 *
 * <p>It found that a fraction or exponent literal whose double is a whole number from 2^53 to 10^21
 * ({@code 1.0e18}) was accepted although its canonical form is refused; the parser now refuses it
 * ({@code JsonWriterTest}).
 */
class JsonWriterFuzzTest {

  private final FrameParser parser = new FrameParser();

  @FuzzTest
  void canonicalFormParsesBackToTheSameValue(byte[] frame) {
    JsonObject value;
    try {
      value = parser.parse(frame, 0, frame.length);
    } catch (BadJsonException refused) {
      return;
    }
    byte[] canonical = JsonWriter.canonical(value);
    JsonObject again = parser.parse(canonical, 0, canonical.length);
    assertEquals(value, again);
    assertArrayEquals(canonical, JsonWriter.canonical(again));

    byte[] ordered = JsonWriter.write(value);
    assertEquals(value, parser.parse(ordered, 0, ordered.length));
  }
}
