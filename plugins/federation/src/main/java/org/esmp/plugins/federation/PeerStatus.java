package org.esmp.plugins.federation;

import org.esmp.api.federation.Relay;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How one peer is doing, for {@link Relay#outboxes()} and the logs: entries waiting, when a relay
 * last succeeded, what failed last. A failure is logged when its text differs from the one before
 * (a peer that stays down is not logged at every retry); a refused key always, as an error.
 * Written by the peer's thread, read by any.
 */
final class PeerStatus {

  private static final Logger log = LoggerFactory.getLogger(PeerStatus.class);

  private final String domain;
  private volatile long depth;
  private volatile long lastSuccessMillis;
  private volatile String lastError = "";
  private String lastLogged = "";

  PeerStatus(String domain) {
    this.domain = domain;
  }

  void depth(long waiting) {
    depth = waiting;
  }

  /** The peer answered a relay. */
  void succeeded(long nowMillis) {
    lastSuccessMillis = nowMillis;
    if (!lastError.isEmpty()) {
      log.info("Federation with {}: relaying again", domain);
    }
    lastError = "";
    lastLogged = "";
  }

  /** An attempt failed; logged when it is news. */
  void failed(PeerException failure, long retryInMillis) {
    String text = failure.getMessage();
    lastError = text;
    if (failure instanceof PeerException.KeyRefused) {
      log.error("Federation with {} REFUSED: {}. Nothing is relayed to {} until the operator checks this "
          + "server's key (pin it with peers: key, or remove the remembered one); next try in {} ms",
          domain, text, domain, retryInMillis);
    } else if (!text.equals(lastLogged)) {
      log.warn("Federation with {} failed: {}; retrying in {} ms{}", domain, text, retryInMillis,
          depth > 0 ? " (" + depth + " waiting)" : "");
    } else {
      log.debug("Federation with {} failed again: {}", domain, text);
    }
    lastLogged = text;
  }

  /** The line logged once a minute while something waits for the peer. */
  void logWaiting() {
    if (depth > 0) {
      log.info("Federation with {}: {} waiting, last success {}, last error {}", domain, depth,
          lastSuccessMillis == 0 ? "never" : java.time.Instant.ofEpochMilli(lastSuccessMillis).toString(),
          lastError.isEmpty() ? "none" : lastError);
    }
  }

  Relay.OutboxStatus snapshot() {
    return new Relay.OutboxStatus(depth, lastSuccessMillis, lastError);
  }
}
