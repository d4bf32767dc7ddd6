package org.esmp.api;

import java.util.Collection;
import java.util.concurrent.CompletionStage;

/**
 * Puts messages into mailboxes and in front of the connections that follow them (after
 * {@code sync}). Offered by the server to delivery plugins through {@link ServerContext}.
 * Thread-safe; never blocks.
 */
public interface Mailboxes {

  /**
   * Appends the message of {@code request} to the mailbox of each of {@code recipients} and records
   * the message as accepted with {@code ack}, in one durable commit; then pushes the new entries to
   * the recipients' connections. The same as {@link Store#commit(Request, Writes, Reply)} with one
   * append per recipient; a plugin that stores more than the message (a group thread, for example)
   * commits through its {@link ServerContext#store() store}.
   *
   * @param recipients distinct local addresses that exist
   * @param ack the answer for the sender, an {@code ack}; a resend of the message gets it again
   *     with {@code "duplicate":true}
   * @return completes with {@code ack} once the message is durable; fails as
   *     {@link Store#commit(Request, Writes, Reply)} does
   */
  CompletionStage<Reply> deliver(Request request, Collection<Address> recipients, Reply ack);

  /**
   * Pushes the message of {@code request} to the recipients' connected, synced sessions without
   * storing it (for ephemeral types). Such a {@code deliver} frame has {@code "cursor":null}.
   */
  void deliverLive(Request request, Collection<Address> recipients);
}
