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

  /** Whether this is an {@code ack}. */
  public boolean isAck() {
    return type.equals("ack");
  }
}
