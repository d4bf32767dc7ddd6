package org.esmp.server.dispatch;

import java.util.List;
import org.esmp.api.MessageListener;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.esmp.server.plugin.PluginRegistry;

/**
 * Hands every answered message to the {@link MessageListener}s. Each listener has its own queue of
 * calls, run one at a time in order on its plugin's threads, each bounded by the plugin call
 * timeout (see {@link org.esmp.server.plugin.SerialCalls}): a slow, failing or hung listener delays
 * or loses only its own calls, never a connection or another listener, and never makes the server
 * hold unbounded memory (past a listener's queue capacity its oldest call is dropped).
 */
public final class ListenerBus {

  /** Queues one call of every listener in {@code listeners}; never blocks. */
  public void publish(List<PluginRegistry.Listening> listeners, Request request, Reply reply) {
    for (PluginRegistry.Listening listening : listeners) {
      listening.calls().submit(() -> listening.listener().onMessage(request, reply),
          "message " + request.message().id());
    }
  }
}
