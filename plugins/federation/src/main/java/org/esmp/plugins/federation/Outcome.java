package org.esmp.plugins.federation;

import java.util.Set;
import org.esmp.api.Address;
import org.esmp.api.ErrorCode;
import org.esmp.api.json.JsonNumber;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonValue;

/**
 * What a peer's answer to a delivery relay means for its entry: delivered; refused for good (a
 * {@code delivery_failed} notice, and the entries behind it go on); or to be sent again later (the
 * connection is closed and everything from the sent cursors on is resent, in order).
 */
sealed interface Outcome {

  /**
   * Errors that say nothing about the message itself, so it is sent again: the peer's load or
   * failure ({@code rate_limited}, {@code internal}, {@code peer_unavailable}, as ESMP/1 section 8
   * says), and what only a peer or connection that is not ready yet answers: an unauthenticated
   * connection ({@code auth_required}), a peer that does not know this server's key ({@code
   * unknown_sender}) or the {@code relay} type ({@code unsupported_type}), clocks apart ({@code
   * stale}, the relay frame's own {@code ts} is fresh). Turning those into notices would empty the
   * outbox of a peer that is being upgraded or set up; {@code outbox_max_age_hours} still bounds
   * the wait.
   */
  Set<String> TRANSIENT = Set.of(ErrorCode.RATE_LIMITED.wire(), ErrorCode.INTERNAL.wire(),
      ErrorCode.PEER_UNAVAILABLE.wire(), ErrorCode.AUTH_REQUIRED.wire(), ErrorCode.UNKNOWN_SENDER.wire(),
      ErrorCode.UNSUPPORTED_TYPE.wire(), ErrorCode.STALE.wire());

  /** The peer has the entry (or had it already). */
  record Delivered() implements Outcome {}

  /** The peer refused the entry for good, with this code. */
  record Refused(String code) implements Outcome {}

  /** Send it again later, waiting at least {@code retryAfterMillis} (0: the backoff decides). */
  record Retry(String why, long retryAfterMillis) implements Outcome {}

  /** The meaning of {@code answer} to a delivery relay for {@code recipient}. */
  static Outcome of(JsonObject answer, Address recipient) {
    String type = answer.string("type").orElse("");
    if (type.equals("ack")) {
      JsonValue rejected = answer.get("rejected");
      if (rejected instanceof JsonObject reasons && reasons.has(recipient.toString())) {
        return new Refused(reasons.string(recipient.toString()).orElse(ErrorCode.UNKNOWN_RECIPIENT.wire()));
      }
      return new Delivered();
    }
    if (type.equals("error")) {
      String code = answer.string("code").orElse(ErrorCode.INTERNAL.wire());
      if (code.equals(ErrorCode.RATE_LIMITED.wire())) {
        return new Retry(code, retryAfterMillis(answer));
      }
      return TRANSIENT.contains(code) ? new Retry(code + ": " + answer.string("message").orElse(""), 0)
          : new Refused(code);
    }
    return new Retry("an answer of type '" + type + "' to a relay", 0);
  }

  /** The {@code retry_after_ms} of a {@code rate_limited} answer; a second when it has none. */
  static long retryAfterMillis(JsonObject answer) {
    long after = answer.get("retry_after_ms") instanceof JsonNumber n ? n.longValue() : 1000;
    return Math.max(1, after);
  }
}
