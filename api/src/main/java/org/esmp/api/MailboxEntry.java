package org.esmp.api;

import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import org.esmp.api.json.JsonObject;

/**
 * One entry of an address's mailbox: a message delivered to it, as a {@code deliver} frame shows it
 * (ESMP/1 section 3).
 *
 * @param cursor the entry's position in its mailbox: 1, 2, 3 … per address; 0 for an entry not yet
 *     stored (the storage assigns it)
 * @param id the message id
 * @param from the sender's address
 * @param receivedAt when the server received the message, milliseconds since the Unix epoch
 * @param message the signed message, every field as received
 * @param groupId the group, for group traffic
 * @param seq the position in the group's thread, for group traffic
 */
public record MailboxEntry(
    long cursor,
    MessageId id,
    Address from,
    long receivedAt,
    JsonObject message,
    Optional<String> groupId,
    OptionalLong seq) {

  /** Checks that no component is {@code null} and the cursor is not negative. */
  public MailboxEntry {
    if (cursor < 0) {
      throw new IllegalArgumentException("cursor must not be negative");
    }
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(from, "from");
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(groupId, "groupId");
    Objects.requireNonNull(seq, "seq");
  }

  /** An entry for a direct message, cursor not yet assigned. */
  public static MailboxEntry direct(MessageId id, Address from, long receivedAt, JsonObject message) {
    return new MailboxEntry(0, id, from, receivedAt, message, Optional.empty(), OptionalLong.empty());
  }

  /** This entry at {@code cursor}. */
  public MailboxEntry withCursor(long cursor) {
    return new MailboxEntry(cursor, id, from, receivedAt, message, groupId, seq);
  }
}
