package org.esmp.plugins.federation;

import org.esmp.api.Ed25519Key;

/** Keys for peers in tests that never get as far as a {@code hello}. */
final class FakePeerKeys {

  /** A pin for a peer that cannot be reached. */
  static final Ed25519Key ANY = Ed25519Key.of(new byte[Ed25519Key.LENGTH]);

  private FakePeerKeys() {}
}
