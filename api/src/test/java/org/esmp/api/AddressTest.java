package org.esmp.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The local part rule of ESMP/1 section 2, through {@link Address#isValid} and the constructor. */
class AddressTest {

  @ParameterizedTest
  @ValueSource(strings = {"a", "0", "a.b", "a_b", "a-b", "a.b-c_d", "x-._y", "postmaster"})
  void acceptsLocalPartsThatBeginAndEndWithALetterOrDigitWithoutDoubleDots(String local) {
    assertTrue(Address.isValid(local + "#example.com"), local);
    assertEquals(local + "#example.com", Address.parse(local + "#example.com").toString());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", ".", "..", "a..b", "-a", "a-", ".a", "a.", "_a", "a_", "A", "a b", "é"})
  void refusesOtherLocalParts(String local) {
    assertFalse(Address.isValid(local + "#example.com"), local);
    assertThrows(IllegalArgumentException.class, () -> Address.parse(local + "#example.com"), local);
    assertThrows(IllegalArgumentException.class, () -> new Address(local, "example.com"), local);
  }

  @Test
  void acceptsSixtyFourCharactersAndRefusesSixtyFive() {
    assertTrue(Address.isValid("a".repeat(64) + "#example.com"));
    assertTrue(Address.isValid("a" + ".b".repeat(31) + "1#example.com"), "64 with dots inside");
    assertFalse(Address.isValid("a".repeat(65) + "#example.com"));
  }
}
