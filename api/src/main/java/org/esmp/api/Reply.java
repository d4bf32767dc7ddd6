package org.esmp.api;

import java.util.Objects;
import org.esmp.api.json.JsonObject;

/**
 * The one answer to a client message. The server adds {@code "re"} (and to an {@code ack} its
 * {@code "duplicate"} flag) and writes it in the order the messages arrived on the connection.
 *
 * @param type the answer's {@code type}: {@code ack}, {@code error} or a result type such as {@code keys}
 * @param fields the answer's other members, without {@code type} and {@code re}
 */
public record Reply(String type, JsonObject fields) {

  private static final Reply ACK = new Reply("ack", JsonObject.empty());

  /** Checks that neither component is {@code null}. */
  public Reply {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(fields, "fields");
  }

  /** A plain {@code ack}. */
  public static Reply ack() {
    return ACK;
  }

  /** An {@code ack} with extra members, such as {@code "seq"} or {@code "rejected"}. */
  public static Reply ack(JsonObject extra) {
    return new Reply("ack", extra);
  }

  /** A typed result, such as {@code {"type":"keys",...}}. */
  public static Reply result(String type, JsonObject fields) {
    return new Reply(type, fields);
  }

  /** An {@code error} with a protocol code and human text. */
  public static Reply error(ErrorCode code, String message) {
    return new Reply(
        "error", JsonObject.builder().put("code", code.wire()).put("message", message).build());
  }

  /**
   * A {@code rate_limited} error: the sender is sending too fast and may try again after
   * {@code retryAfterMs} milliseconds ({@code "retry_after_ms"}, ESMP/1 section 3).
   *
   * @param retryAfterMs at least 1
   */
  public static Reply rateLimited(long retryAfterMs, String message) {
    if (retryAfterMs < 1) {
      throw new IllegalArgumentException("retry_after_ms must be at least 1, got " + retryAfterMs);
    }
    return new Reply("error", JsonObject.builder().put("code", ErrorCode.RATE_LIMITED.wire())
        .put("message", message).put("retry_after_ms", retryAfterMs).build());
  }

  /** Whether this is an {@code ack}. */
  public boolean isAck() {
    return type.equals("ack");
  }
}
