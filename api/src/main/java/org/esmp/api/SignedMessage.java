package org.esmp.api;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonValue;

/**
 * A client message whose signature the server has verified (ESMP/1 section 2): the typed view of its
 * standard fields plus every field as received.
 *
 * @param id the message id
 * @param type the message type
 * @param to the {@code to} addresses, in order as sent (may be empty)
 * @param cc the {@code cc} addresses, in order as sent (empty when absent)
 * @param groupId the {@code group_id}, when present
 * @param body the {@code body}
 * @param ts the sender's {@code ts}: present on every message the server verified but those of the
 *     session types ({@code auth}, {@code sync}, {@code lookup}, {@code history}, {@code
 *     group_info}), where it is optional
 * @param senderKey the key that signed the message
 * @param fields the whole message object as received, {@code signature} and {@code sender_pubkey}
 *     included: what a {@code deliver} frame carries as {@code message}
 */
public record SignedMessage(
    MessageId id,
    String type,
    List<Address> to,
    List<Address> cc,
    Optional<String> groupId,
    JsonValue body,
    OptionalLong ts,
    Ed25519Key senderKey,
    JsonObject fields) {

  /** Checks that no component is {@code null} and copies the lists. */
  public SignedMessage {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(type, "type");
    to = List.copyOf(to);
    cc = List.copyOf(cc);
    Objects.requireNonNull(groupId, "groupId");
    Objects.requireNonNull(body, "body");
    Objects.requireNonNull(ts, "ts");
    Objects.requireNonNull(senderKey, "senderKey");
    Objects.requireNonNull(fields, "fields");
  }
}
