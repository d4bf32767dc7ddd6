package org.esmp.api.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** JSON numbers are IEEE doubles, as I-JSON and RFC 8785 take them; safe integers are exact. */
class JsonNumberTest {

  @Test
  void safeIntegersAreTheWholeNumbersUpToTwoToTheFiftyThreeMinusOne() {
    assertTrue(JsonNumber.of(0).isSafeInteger());
    assertTrue(JsonNumber.of(JsonNumber.MAX_SAFE_INTEGER).isSafeInteger());
    assertTrue(JsonNumber.of(-JsonNumber.MAX_SAFE_INTEGER).isSafeInteger());
    assertEquals(JsonNumber.MAX_SAFE_INTEGER, JsonNumber.of(JsonNumber.MAX_SAFE_INTEGER).longValue());
    assertFalse(new JsonNumber(1.5).isSafeInteger());
    assertFalse(new JsonNumber(Math.pow(2, 53)).isSafeInteger());
    assertTrue(new JsonNumber(1.0).isSafeInteger(), "1.0 is the number 1");
  }

  @Test
  void refusesIntegersThatADoubleCannotHoldExactlyAndNonFiniteValues() {
    assertThrows(IllegalArgumentException.class, () -> JsonNumber.of(JsonNumber.MAX_SAFE_INTEGER + 1));
    assertThrows(IllegalArgumentException.class, () -> JsonNumber.of(Long.MIN_VALUE));
    assertThrows(IllegalArgumentException.class, () -> new JsonNumber(Double.NaN));
    assertThrows(IllegalArgumentException.class, () -> new JsonNumber(Double.POSITIVE_INFINITY));
  }

  @Test
  void equalsByValueWithZeroAndMinusZeroTheSameNumber() {
    assertEquals(new JsonNumber(1.0), JsonNumber.of(1));
    assertEquals(new JsonNumber(0.0), new JsonNumber(-0.0));
    assertEquals(new JsonNumber(0.0).hashCode(), new JsonNumber(-0.0).hashCode());
    assertNotEquals(new JsonNumber(0.1), new JsonNumber(0.2));
  }
}
