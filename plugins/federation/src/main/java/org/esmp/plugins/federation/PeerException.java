package org.esmp.plugins.federation;

import java.io.IOException;

/**
 * Why a peer cannot be used now: connecting, TLS, its {@code hello}, its key, {@code auth}, or an
 * answer that says to come back later. The outbox closes the connection and tries again after a
 * wait: at least {@link #retryAfterMillis()} for {@code rate_limited}, else its backoff.
 */
class PeerException extends IOException {

  private static final long serialVersionUID = 1L;

  private final long retryAfterMillis;

  PeerException(String message) {
    this(message, null, 0);
  }

  PeerException(String message, Throwable cause) {
    this(message, cause, 0);
  }

  private PeerException(String message, Throwable cause, long retryAfterMillis) {
    super(message, cause);
    this.retryAfterMillis = retryAfterMillis;
  }

  /** The peer answered {@code rate_limited}: every later relay on the connection will be too. */
  static PeerException rateLimited(long retryAfterMillis) {
    return new PeerException("rate_limited, retry after " + retryAfterMillis + " ms", null,
        Math.max(1, retryAfterMillis));
  }

  /** How long the peer asked to wait ({@code retry_after_ms}); 0 when it did not. */
  long retryAfterMillis() {
    return retryAfterMillis;
  }

  /**
   * A peer whose server offers a key other than the one pinned or remembered for its domain: it is
   * refused, and the operator must look (logged as an error).
   */
  static final class KeyRefused extends PeerException {
    private static final long serialVersionUID = 1L;

    KeyRefused(String message) {
      super(message);
    }
  }
}
