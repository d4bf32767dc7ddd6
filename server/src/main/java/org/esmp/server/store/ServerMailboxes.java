package org.esmp.server.store;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.esmp.api.Address;
import org.esmp.api.MailboxEntry;
import org.esmp.api.Mailboxes;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.esmp.api.SignedMessage;
import org.esmp.api.Writes;
import org.esmp.server.mailbox.MailboxService;

/** The {@link Mailboxes} offered to plugins: durable delivery through {@link Commits}, live push. */
public final class ServerMailboxes implements Mailboxes {

  private final Commits commits;
  private final MailboxService live;

  public ServerMailboxes(Commits commits, MailboxService live) {
    this.commits = commits;
    this.live = live;
  }

  @Override
  public CompletionStage<Reply> deliver(Request request, Collection<Address> recipients, Reply ack) {
    SignedMessage message = request.message();
    Address from = request.sender().orElseThrow(() -> new IllegalArgumentException("no sender address"));
    MailboxEntry entry = MailboxEntry.direct(message.id(), from, request.receivedAt(), message.fields());
    Writes.Builder writes = Writes.builder();
    for (Address recipient : List.copyOf(recipients)) {
      writes.append(recipient, entry);
    }
    try {
      return commits.commit(request, writes.build(), ack).thenApply(cursors -> ack);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public void deliverLive(Request request, Collection<Address> recipients) {
    live.deliverLive(request, recipients);
  }
}
