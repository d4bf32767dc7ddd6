package org.esmp.api;

import java.util.concurrent.CompletionStage;
import org.pf4j.ExtensionPoint;

/**
 * Delivers content messages (see {@link ContentType}): one installed delivery for direct messages,
 * one for group messages. Without a delivery for a scope, messages of that scope are answered
 * {@code unsupported_type}.
 *
 * <p>Called as {@link MessageHandler#handle} is: on the plugin's own threads, in arrival order per
 * connection, must not block for long, bounded by the same timeouts. The returned {@code ack} must
 * complete only once the message is durably stored, since a client takes an {@code ack} as a
 * promise that the message survives a crash.
 *
 * <p>Duplicates are handled as for {@link MessageHandler}: a resend never reaches {@code deliver},
 * and the server records an acknowledged message as accepted, in the commit of its delivery when
 * that goes through {@link Mailboxes#deliver} or {@link Store#commit(Request, Writes, Reply)}.
 * An ephemeral message is not recorded: nothing of it is stored.
 */
public interface Delivery extends ExtensionPoint {

  /** Which messages a delivery takes. */
  enum Scope {
    /** Content messages without {@code group_id}, to the addresses in {@code to} and {@code cc}. */
    DIRECT,
    /** Content messages with a {@code group_id}, to the group's members. */
    GROUP
  }

  /** The scope this delivery serves; read once. */
  Scope scope();

  /**
   * Delivers one message whose body its {@link ContentType} accepted.
   *
   * @param ephemeral whether the type is ephemeral: deliver live only, store nothing
   * @return the answer, usually an {@code ack}; refuse with {@link RejectedException}
   */
  CompletionStage<Reply> deliver(Request request, boolean ephemeral);
}
