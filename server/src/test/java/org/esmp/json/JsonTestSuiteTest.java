package org.esmp.json;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * JSONTestSuite (nst/JSONTestSuite, MIT, see vectors/json-test-suite/LICENSE) against the frame
 * parser: every {@code n_} file refused (ESMP-1 §2.1), every {@code y_} object accepted unless it
 * breaks an I-JSON rule, and a stated outcome for every {@code i_} file.
 *
 * <p>Most files are arrays or scalars, which a frame refuses for being no object. So that the
 * suite still tests the grammar, each file is also tried as a member value:
 * {@code {"v":<file>}}.
 */
class JsonTestSuiteTest {

  private static final String DIR = "json-test-suite/test_parsing";
  private static final FrameParser PARSER = new FrameParser();

  /** {@code y_} files that are valid JSON but not I-JSON, with the rule they break. */
  private static final Map<String, String> Y_REFUSED =
      Map.of(
          "y_object_duplicated_key.json", "duplicate key",
          "y_object_duplicated_key_and_value.json", "duplicate key (same value too)");

  /**
   * The {@code i_} files (implementation-defined) that a frame accepts; every other one is refused.
   * Both are underflows to 0: the number lies within the double range, only its precision is
   * lost, as with any decimal fraction.
   */
  private static final Map<String, String> I_ACCEPTED =
      Map.of(
          "i_number_double_huge_neg_exp.json", "123.456e-789 underflows to 0",
          "i_number_real_underflow.json", "123e-10000000 underflows to 0");

  /** {@code i_} files about the byte encoding itself, tried as they are rather than wrapped. */
  private static boolean aboutEncoding(String name) {
    return name.contains("BOM") || name.contains("utf16") || name.contains("UTF-16");
  }

  @Test
  void findsTheWholeSuiteOnTheClasspath() {
    List<String> names = Vectors.list(DIR);
    assertEquals(188, names.stream().filter(n -> n.startsWith("n_")).count());
    assertEquals(95, names.stream().filter(n -> n.startsWith("y_")).count());
    assertEquals(35, names.stream().filter(n -> n.startsWith("i_")).count());
    assertTrue(names.containsAll(Y_REFUSED.keySet()));
    assertTrue(names.containsAll(I_ACCEPTED.keySet()));
  }

  @TestFactory
  Stream<DynamicTest> refusesEveryNFile() {
    return files("n_").map(name -> DynamicTest.dynamicTest(name, () -> refuse(read(name))));
  }

  @TestFactory
  Stream<DynamicTest> refusesEveryNFileAsAMemberValue() {
    return files("n_").map(name -> DynamicTest.dynamicTest(name, () -> refuse(wrap(read(name)))));
  }

  @TestFactory
  Stream<DynamicTest> acceptsEveryYObjectUnlessNotIJson() {
    return files("y_")
        .filter(name -> startsWithObject(read(name)))
        .map(name -> DynamicTest.dynamicTest(name, () -> {
          byte[] json = read(name);
          if (Y_REFUSED.containsKey(name)) {
            refuse(json);
          } else {
            accept(json);
          }
        }));
  }

  @TestFactory
  Stream<DynamicTest> acceptsEveryYFileAsAMemberValueUnlessNotIJson() {
    return files("y_")
        .map(name -> DynamicTest.dynamicTest(name, () -> {
          byte[] json = wrap(read(name));
          if (Y_REFUSED.containsKey(name)) {
            refuse(json);
          } else {
            accept(json);
          }
        }));
  }

  @TestFactory
  Stream<DynamicTest> givesEachIFileItsStatedOutcome() {
    return files("i_")
        .map(name -> DynamicTest.dynamicTest(name, () -> {
          byte[] json = aboutEncoding(name) ? read(name) : wrap(read(name));
          if (I_ACCEPTED.containsKey(name)) {
            accept(json);
          } else {
            refuse(json);
          }
        }));
  }

  private static Stream<String> files(String prefix) {
    return Vectors.list(DIR).stream().filter(n -> n.startsWith(prefix));
  }

  private static byte[] read(String name) {
    return Vectors.bytes(DIR + "/" + name);
  }

  private static byte[] wrap(byte[] json) {
    byte[] head = "{\"v\":".getBytes(StandardCharsets.US_ASCII);
    byte[] out = new byte[head.length + json.length + 1];
    System.arraycopy(head, 0, out, 0, head.length);
    System.arraycopy(json, 0, out, head.length, json.length);
    out[out.length - 1] = '}';
    return out;
  }

  private static boolean startsWithObject(byte[] json) {
    for (byte b : json) {
      if (b != ' ' && b != '\t' && b != '\n' && b != '\r') {
        return b == '{';
      }
    }
    return false;
  }

  private static void accept(byte[] json) {
    assertDoesNotThrow(() -> PARSER.parse(json, 0, json.length));
  }

  private static void refuse(byte[] json) {
    assertThrows(BadJsonException.class, () -> PARSER.parse(json, 0, json.length));
  }
}
