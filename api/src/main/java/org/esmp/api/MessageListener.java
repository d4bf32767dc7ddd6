package org.esmp.api;

import org.pf4j.ExtensionPoint;

/**
 * Sees every verified message once its answer is decided: for audit, metrics, bots or bridges. It
 * cannot change the answer.
 *
 * <p>Called after the answer was sent, on a separate listener thread (never the connection's), one
 * message at a time per listener, in the order answers were decided. A listener that throws is
 * logged and skipped for that message. Keep it quick: a slow listener delays only other listener
 * calls, and once too many calls are waiting, the oldest are dropped with a warning.
 */
public interface MessageListener extends ExtensionPoint {

  /**
   * @param request the verified message and where it came from
   * @param reply the answer the sender got
   */
  void onMessage(Request request, Reply reply);
}
