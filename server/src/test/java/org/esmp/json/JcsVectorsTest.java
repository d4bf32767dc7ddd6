package org.esmp.json;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Stream;
import org.esmp.api.json.JsonValue;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** RFC 8785 test vectors (cyberphone/json-canonicalization, Apache-2.0, see vectors/jcs/LICENSE). */
class JcsVectorsTest {

  private static final FrameParser PARSER = new FrameParser();

  @Test
  void findsEveryVectorOnTheClasspath() {
    assertEquals(
        List.of("arrays", "french", "structures", "unicode", "values", "weird"),
        Vectors.list("jcs/input").stream().map(n -> n.replace(".json", "")).toList());
  }

  @TestFactory
  Stream<DynamicTest> canonicalizesEachInputToItsOutputFile() {
    return Vectors.list("jcs/input").stream()
        .map(name -> DynamicTest.dynamicTest(name, () -> {
          byte[] input = Vectors.bytes("jcs/input/" + name);
          byte[] canonical = JsonWriter.canonical(parse(input));
          assertEquals(
              new String(Vectors.bytes("jcs/output/" + name), StandardCharsets.UTF_8),
              new String(canonical, StandardCharsets.UTF_8));
          assertArrayEquals(Vectors.bytes("jcs/output/" + name), canonical);
        }));
  }

  @TestFactory
  Stream<DynamicTest> canonicalizesEachInputToItsHexBytes() {
    return Vectors.list("jcs/input").stream()
        .map(name -> DynamicTest.dynamicTest(name, () -> {
          byte[] input = Vectors.bytes("jcs/input/" + name);
          byte[] expected = hex(Vectors.bytes("jcs/outhex/" + name.replace(".json", ".txt")));
          assertArrayEquals(expected, JsonWriter.canonical(parse(input)));
        }));
  }

  /**
   * The input's value. A frame is always an object, so an input of another kind (arrays.json) is
   * parsed as the member value of {@code {"v":<input>}}.
   */
  private static JsonValue parse(byte[] input) {
    String text = new String(input, StandardCharsets.UTF_8);
    if (text.strip().startsWith("{")) {
      return PARSER.parse(input, 0, input.length);
    }
    byte[] wrapped = ("{\"v\":" + text + "}").getBytes(StandardCharsets.UTF_8);
    return PARSER.parse(wrapped, 0, wrapped.length).get("v");
  }

  /** Bytes from whitespace-separated hex pairs. */
  private static byte[] hex(byte[] text) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (String pair : new String(text, StandardCharsets.US_ASCII).trim().split("\\s+")) {
      out.write(Integer.parseInt(pair, 16));
    }
    return out.toByteArray();
  }
}
