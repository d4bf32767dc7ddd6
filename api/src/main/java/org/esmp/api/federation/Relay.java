package org.esmp.api.federation;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.esmp.api.Ed25519Key;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.pf4j.ExtensionPoint;

/**
 * Sends what this server has for other domains to their servers (ESMP/1 section 8): the entries of
 * the outbox (see {@link Federation}), and messages a group's home or another server must answer.
 * One runs at a time: with none installed, addresses of other domains are {@code
 * unknown_recipient} and nothing is relayed.
 *
 * <p>The server calls these methods on its own threads: each must return at once, doing its work on
 * the plugin's threads.
 */
public interface Relay extends ExtensionPoint {

  /**
   * Sends {@code request}'s message to the server of {@code domain} in a {@code relay} frame and
   * completes with that server's answer to it: a remote member's message to the group's home, or a
   * {@code lookup} of an address there. Fails with {@link org.esmp.api.RejectedException} of {@link
   * org.esmp.api.ErrorCode#PEER_UNAVAILABLE} when that server cannot be reached or does not answer
   * in time.
   */
  CompletionStage<Reply> forward(Request request, String domain);

  /**
   * The key of {@code domain}'s server: pinned by the operator, remembered, or learned now by
   * connecting to it over TLS valid for the domain. Fails when none can be trusted. The server
   * asks when a server of {@code domain} authenticates to it.
   */
  CompletionStage<Ed25519Key> peerKey(String domain);

  /** New outbox entries are durable for these domains: send them. */
  default void appended(Set<String> domains) {}

  /** A server of {@code domain} just authenticated to this one: it is up, so send what waits for it now. */
  default void peerSeen(String domain) {}

  /** What waits for each domain, for logs and metrics. */
  default Map<String, OutboxStatus> outboxes() {
    return Map.of();
  }

  /**
   * The outbox of one domain.
   *
   * @param depth entries waiting
   * @param lastSuccessMillis when a relay to it last succeeded, 0 if never
   * @param lastError what failed last, empty when the last attempt succeeded
   */
  record OutboxStatus(long depth, long lastSuccessMillis, String lastError) {}
}
