package org.esmp.json;

/**
 * A frame is not acceptable JSON for ESMP: malformed, or breaking an I-JSON rule (ESMP-1 §2.1).
 * Answered with {@code bad_json}.
 *
 * <p>The message is a short human reason and never quotes the frame, so it is safe to send back
 * and to log. No stack trace is captured: this is thrown for ordinary bad input, possibly at a
 * high rate, and the trace would say nothing about the sender's mistake.
 */
public final class BadJsonException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** @param reason short human text, without frame content */
  public BadJsonException(String reason) {
    super(reason, null, false, false);
  }
}
