package org.esmp.api;

import org.pf4j.ExtensionPoint;

/**
 * Sees every verified message once its answer is decided: for audit, metrics, bots or bridges. It
 * cannot change the answer.
 *
 * <p>Called after the answer was decided, on the plugin's own threads (never the connection's), one
 * message at a time per listener, in the order answers were decided. A call that throws, or does
 * not return within the plugin call timeout (its thread is then interrupted), is logged and
 * skipped. Keep it quick: a slow listener delays only its own calls, and once too many of its calls
 * are waiting, the oldest are dropped with a warning.
 */
public interface MessageListener extends ExtensionPoint {

  /**
   * @param request the verified message and where it came from
   * @param reply the answer the sender got
   */
  void onMessage(Request request, Reply reply);
}
