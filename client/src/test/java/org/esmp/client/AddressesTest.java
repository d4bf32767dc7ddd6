package org.esmp.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The client applies the server's local part rule (ESMP-1 §2) before it sends an address. */
class AddressesTest {

  @ParameterizedTest
  @ValueSource(strings = {"a", "0", "a.b", "a_b", "a-b", "a.b-c_d", "x-._y", "postmaster"})
  void acceptsLocalPartsThatBeginAndEndWithALetterOrDigitWithoutDoubleDots(String local) {
    assertTrue(Addresses.isValid(local + "#example.com"), local);
    assertEquals(local + "#example.com", Addresses.check(local + "#example.com"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", ".", "..", "a..b", "-a", "a-", ".a", "a.", "_a", "a_", "A", "a b", "é"})
  void refusesOtherLocalParts(String local) {
    assertFalse(Addresses.isValid(local + "#example.com"), local);
    assertThrows(IllegalArgumentException.class, () -> Addresses.check(local + "#example.com"), local);
  }

  @Test
  void acceptsSixtyFourCharactersAndRefusesSixtyFive() {
    assertTrue(Addresses.isValid("a".repeat(64) + "#example.com"));
    assertTrue(Addresses.isValid("a" + ".b".repeat(31) + "1#example.com"), "64 with dots inside");
    assertFalse(Addresses.isValid("a".repeat(65) + "#example.com"));
  }
}
