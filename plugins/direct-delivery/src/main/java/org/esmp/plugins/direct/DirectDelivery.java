package org.esmp.plugins.direct;

import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.esmp.api.Address;
import org.esmp.api.Delivery;
import org.esmp.api.ErrorCode;
import org.esmp.api.RejectedException;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.esmp.api.ServerContext;
import org.esmp.api.SignedMessage;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;
import org.pf4j.Extension;

/**
 * Direct messages (ESMP/1 section 5): every distinct address of {@code to} and {@code cc} gets the
 * message in its mailbox. Addresses that cannot be accepted are listed in the ack's
 * {@code rejected}; when none can, the answer is {@code unknown_recipient}.
 *
 * <p>An address of another domain goes to its server (section 8) when a federation plugin runs: its
 * entry is kept in this server's outbox, in the same commit, and the ack lists it under
 * {@code relayed}. Without one, it is {@code unknown_recipient}.
 */
@Extension
public class DirectDelivery implements Delivery {

  private static final String UNKNOWN_RECIPIENT = ErrorCode.UNKNOWN_RECIPIENT.wire();

  private final ServerContext context;

  public DirectDelivery(ServerContext context) {
    this.context = context;
  }

  @Override
  public Scope scope() {
    return Scope.DIRECT;
  }

  @Override
  public CompletionStage<Reply> deliver(Request request, boolean ephemeral) {
    SignedMessage message = request.message();
    Set<Address> recipients = new LinkedHashSet<>(message.to());
    recipients.addAll(message.cc());
    if (recipients.size() > context.maxRecipients()) {
      throw new RejectedException(ErrorCode.TOO_MANY_RECIPIENTS,
          recipients.size() + " distinct recipients; at most " + context.maxRecipients());
    }
    Set<Address> accepted = new LinkedHashSet<>();
    Set<Address> relayed = new LinkedHashSet<>();
    for (Address recipient : recipients) {
      if (context.hasMailbox(recipient)) {
        accepted.add(recipient);
      } else if (context.relays(recipient)) {
        relayed.add(recipient);
      }
    }
    if (accepted.isEmpty() && relayed.isEmpty()) {
      throw new RejectedException(ErrorCode.UNKNOWN_RECIPIENT, "no recipient exists");
    }
    JsonObject.Builder rejected = JsonObject.builder();
    for (Address recipient : recipients) {
      if (!accepted.contains(recipient) && !relayed.contains(recipient)) {
        rejected.put(recipient.toString(), UNKNOWN_RECIPIENT);
      }
    }
    JsonObject rejections = rejected.build();
    JsonObject.Builder extra = JsonObject.builder();
    if (!rejections.isEmpty()) {
      extra.put("rejected", rejections);
    }
    if (!relayed.isEmpty() && !ephemeral) {
      extra.put("relayed", JsonArray.ofStrings(relayed.stream().map(Address::toString).toList()));
    }
    JsonObject fields = extra.build();
    Reply ack = fields.isEmpty() ? Reply.ack() : Reply.ack(fields);
    if (ephemeral) {
      // Live only, and only here: an ephemeral message is not kept for another server either.
      context.mailboxes().deliverLive(request, accepted);
      return CompletableFuture.completedFuture(ack);
    }
    Set<Address> all = new LinkedHashSet<>(accepted);
    all.addAll(relayed);
    return context.mailboxes().deliver(request, all, ack);
  }
}
