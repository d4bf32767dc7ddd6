package org.esmp.plugins.federation;

import java.util.List;
import java.util.Optional;
import org.esmp.api.Address;
import org.esmp.api.MailboxEntry;
import org.esmp.api.ServerContext;
import org.esmp.api.SignedMessage;
import org.esmp.api.Writes;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;

/**
 * The {@code delivery_failed} notice (ESMP/1 section 8) that tells a sender of this server that a
 * relayed message will not reach one recipient: a message from {@code postmaster#<this server's
 * domain>} signed with the server key, body {@code {"id","recipient","code"}}, appended to the
 * sender's mailbox in the same commit as the sent cursor passes the entry. A sender of another
 * domain (a group's remote member) gets none: their own server tells them.
 */
final class Notices {

  /** The notice's type. */
  static final String TYPE = "delivery_failed";

  private final ServerContext context;
  private final Address postmaster;

  Notices(ServerContext context) {
    this.context = context;
    this.postmaster = new Address("postmaster", context.domain());
  }

  /** The append of the notice that {@code recipient} did not get {@code entry}, when its sender is here. */
  Optional<Writes.Append> failed(MailboxEntry entry, Address recipient, String code, long nowMillis) {
    Address sender = entry.from();
    if (!context.domains().contains(sender.domain()) || !context.hasMailbox(sender)) {
      return Optional.empty();
    }
    SignedMessage notice = context.federation().sign(JsonObject.builder()
        .put("type", TYPE)
        .put("to", JsonArray.ofStrings(List.of(sender.toString())))
        .put("from", postmaster.toString())
        .put("body", JsonObject.builder()
            .put("id", entry.id().hex())
            .put("recipient", recipient.toString())
            .put("code", code)
            .build())
        .put("ts", nowMillis)
        .build());
    return Optional.of(new Writes.Append(sender,
        MailboxEntry.direct(notice.id(), postmaster, nowMillis, notice.fields())));
  }
}
