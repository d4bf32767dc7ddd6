package org.esmp.server.dispatch;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.esmp.api.Reply;

/**
 * A message handed to whoever answers it.
 *
 * @param handed completes (never exceptionally) once the handler has taken the message: its method
 *     returned, or failed, or ran out of time. The connection's next message is dispatched only
 *     then, so that handlers see a connection's messages in arrival order.
 * @param reply the answer, whenever it is decided
 */
public record Dispatched(CompletionStage<Void> handed, CompletionStage<Reply> reply) {

  private static final CompletableFuture<Void> HANDED = CompletableFuture.completedFuture(null);

  /** A message answered, or handed over, on the caller's thread. */
  public static Dispatched now(CompletionStage<Reply> reply) {
    return new Dispatched(HANDED, reply);
  }
}
