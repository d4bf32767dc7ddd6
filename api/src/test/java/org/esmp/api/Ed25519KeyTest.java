package org.esmp.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Base64;
import org.junit.jupiter.api.Test;

class Ed25519KeyTest {

  private static byte[] raw(int first) {
    byte[] raw = new byte[Ed25519Key.LENGTH];
    raw[0] = (byte) first;
    raw[31] = 7;
    return raw;
  }

  @Test
  void roundTripsThroughItsCanonicalBase64() {
    Ed25519Key key = Ed25519Key.of(raw(1));
    String base64 = Base64.getEncoder().encodeToString(raw(1));
    assertEquals(base64, key.base64());
    assertEquals(key, Ed25519Key.fromBase64(base64));
    assertArrayEquals(raw(1), key.bytes());
  }

  @Test
  void isAValueThatCannotBeChangedFromOutside() {
    byte[] raw = raw(2);
    Ed25519Key key = Ed25519Key.of(raw);
    raw[0] = 99;
    key.bytes()[1] = 99;
    assertArrayEquals(raw(2), key.bytes());
    assertEquals(Ed25519Key.of(raw(2)), key);
    assertEquals(Ed25519Key.of(raw(2)).hashCode(), key.hashCode());
    assertNotEquals(Ed25519Key.of(raw(3)), key);
  }

  @Test
  void refusesAnythingButThirtyTwoBytesInStandardPaddedBase64() {
    assertThrows(IllegalArgumentException.class, () -> Ed25519Key.of(new byte[31]));
    assertThrows(IllegalArgumentException.class, () -> Ed25519Key.of(new byte[33]));
    String valid = Base64.getEncoder().encodeToString(raw(4));
    assertThrows(IllegalArgumentException.class, () -> Ed25519Key.fromBase64(valid.substring(0, valid.length() - 1)),
        "unpadded");
    assertThrows(IllegalArgumentException.class, () -> Ed25519Key.fromBase64(Base64.getUrlEncoder().encodeToString(
        new byte[] {(byte) 0xfb, (byte) 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 0})), "URL-safe alphabet");
    assertThrows(IllegalArgumentException.class,
        () -> Ed25519Key.fromBase64(Base64.getEncoder().encodeToString(new byte[33])), "33 bytes");
    // The last character carries 2 unused bits: only the form with them zero is canonical.
    char last = valid.charAt(valid.length() - 2);
    String unusedBitsSet = valid.substring(0, valid.length() - 2) + (char) (last + 1) + "=";
    assertThrows(IllegalArgumentException.class, () -> Ed25519Key.fromBase64(unusedBitsSet), "non-canonical");
  }
}
