package org.esmp.load.net;

import org.esmp.client.Addresses;
import org.esmp.client.SigningKey;

/** One simulated user: an address and the key it registers with on its first {@code auth}. */
public record LoadIdentity(String address, SigningKey key) {

  public LoadIdentity {
    Addresses.check(address);
  }

  /** A new identity for {@code address} with a fresh key. */
  public static LoadIdentity generate(String address) {
    return new LoadIdentity(address, SigningKey.generate());
  }
}
