package org.esmp.load.net;

import java.util.List;

/**
 * The server's {@code hello} (ESMP-1 §4): what {@code auth} must echo, the domains served, and the
 * longest frame accepted.
 */
public record Hello(String domain, List<String> domains, String challenge, int maxFrame) {

  public Hello {
    domains = List.copyOf(domains);
  }

  /** Whether the server serves {@code name}. */
  public boolean serves(String name) {
    return domain.equals(name) || domains.contains(name);
  }
}
