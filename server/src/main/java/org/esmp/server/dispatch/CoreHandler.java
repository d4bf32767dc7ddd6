package org.esmp.server.dispatch;

import java.util.concurrent.CompletionStage;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.esmp.server.session.ConnectionSession;

/**
 * A message type the server answers itself ({@code auth}, keys, {@code lookup}, {@code sync}).
 * Called like a plugin's handler: on a worker thread, in arrival order per connection, never
 * blocking.
 */
@FunctionalInterface
public interface CoreHandler {

  /** Answers one verified message that arrived on {@code session}. */
  CompletionStage<Reply> handle(Request request, ConnectionSession session);
}
