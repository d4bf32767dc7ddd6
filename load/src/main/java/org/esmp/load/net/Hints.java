package org.esmp.load.net;

import java.util.List;

/**
 * What to change when the server refuses the load: the configuration keys (esmp.yaml) behind each
 * limit. A server with the defaults throttles any benchmark from one machine
 * (docs/PERFORMANCE.md).
 */
public final class Hints {

  /** The rate limits docs/PERFORMANCE.md raises for benchmarks. */
  public static final List<String> RATE_LIMIT_KEYS = List.of("ip_frames_per_second", "ip_frames_burst",
      "ip_bytes_per_second", "ip_bytes_burst", "address_messages_per_second", "address_messages_burst");

  private Hints() {}

  /** The advice for a refused setup step; empty when there is none. */
  public static String forRefusal(RefusedException.Stage stage, String code) {
    if ("rate_limited".equals(code)) {
      return switch (stage) {
        case CONNECT -> "Over the server's connection limits: raise max_connections_per_ip (default 100)"
            + " and max_connections (default 10000) in its configuration";
        case AUTH -> "Over a registration or connection limit: raise registrations_per_ip_per_hour (default 20"
            + " new addresses per IP per hour) and max_connections_per_address in the server's configuration";
        default -> forRateLimited();
      };
    }
    if ("forbidden".equals(code) && stage == RefusedException.Stage.AUTH) {
      return "Is registration closed (registration: open, or --registration open), or was this address"
          + " registered with another key before (use a fresh data directory)?";
    }
    if ("forbidden".equals(code) && stage == RefusedException.Stage.MESSAGE) {
      return "A group past max_group_members (default 1000)?";
    }
    if (code == null && stage == RefusedException.Stage.CONNECT) {
      return "Over the server's connection limits? Check max_connections_per_ip and max_connections";
    }
    return "";
  }

  /** The advice when messages were answered {@code rate_limited}. */
  public static String forRateLimited() {
    return "The server throttled the load: raise " + String.join(", ", RATE_LIMIT_KEYS)
        + " (the block in docs/PERFORMANCE.md) and registrations_per_ip_per_hour in its configuration";
  }
}
