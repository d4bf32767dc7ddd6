package org.esmp.plugins.federation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Optional;
import org.esmp.api.Ed25519Key;
import org.junit.jupiter.api.Test;

class PeerTrustTest {

  private static final Ed25519Key ONE = key(1);
  private static final Ed25519Key TWO = key(2);

  private static Ed25519Key key(int b) {
    byte[] raw = new byte[Ed25519Key.LENGTH];
    raw[0] = (byte) b;
    return Ed25519Key.of(raw);
  }

  @Test
  void aPinDecidesAloneOverAnyTransport() throws Exception {
    assertEquals(PeerTrust.How.PINNED, PeerTrust.decide("b.example", Optional.of(ONE), Optional.of(TWO), ONE, false));
    assertThrows(PeerException.KeyRefused.class,
        () -> PeerTrust.decide("b.example", Optional.of(ONE), Optional.empty(), TWO, true));
  }

  @Test
  void withoutAPinOnlyTlsValidForTheDomainIsTrusted() {
    PeerException refused = assertThrows(PeerException.class,
        () -> PeerTrust.decide("b.example", Optional.empty(), Optional.of(ONE), ONE, false));
    assertEquals(PeerException.class, refused.getClass(), "not a changed key: no key was looked at");
  }

  @Test
  void aRememberedKeyMustBeOfferedAgain() throws Exception {
    assertEquals(PeerTrust.How.REMEMBERED, PeerTrust.decide("b.example", Optional.empty(), Optional.of(ONE), ONE, true));
    assertThrows(PeerException.KeyRefused.class,
        () -> PeerTrust.decide("b.example", Optional.empty(), Optional.of(ONE), TWO, true));
  }

  @Test
  void anUnknownPeerOverValidTlsIsTrustedOnFirstUse() throws Exception {
    assertEquals(PeerTrust.How.FIRST_USE, PeerTrust.decide("b.example", Optional.empty(), Optional.empty(), TWO, true));
  }
}
