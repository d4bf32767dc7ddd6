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
import org.esmp.api.json.JsonObject;
import org.pf4j.Extension;

/**
 * Direct messages (ESMP/1 section 5): every distinct address of {@code to} and {@code cc} gets the
 * message in its mailbox. Addresses that cannot be accepted are listed in the ack's
 * {@code rejected}; when none can, the answer is {@code unknown_recipient}.
 *
 * <p>Addresses of other domains are rejected as {@code unknown_recipient} until federation
 * (section 8) is implemented: this server knows no peers.
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
    for (Address recipient : recipients) {
      if (context.hasMailbox(recipient)) {
        accepted.add(recipient);
      }
    }
    if (accepted.isEmpty()) {
      throw new RejectedException(ErrorCode.UNKNOWN_RECIPIENT, "no recipient exists");
    }
    JsonObject.Builder rejected = JsonObject.builder();
    for (Address recipient : recipients) {
      if (!accepted.contains(recipient)) {
        rejected.put(recipient.toString(), UNKNOWN_RECIPIENT);
      }
    }
    JsonObject rejections = rejected.build();
    Reply ack = rejections.isEmpty() ? Reply.ack() : Reply.ack(JsonObject.builder().put("rejected", rejections).build());
    if (ephemeral) {
      context.mailboxes().deliverLive(request, accepted);
      return CompletableFuture.completedFuture(ack);
    }
    return context.mailboxes().deliver(request, accepted, ack);
  }
}
