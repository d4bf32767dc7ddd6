package org.esmp.client;

/**
 * Receives a synced mailbox, in cursor order, on the client's reader thread: keep each call short,
 * and never wait there for an answer of the same client (the reader thread is the one that would
 * read it). Calling {@link EsmpClient#close()} from here is fine.
 *
 * <p>After either method returns normally, the client saves the entry's cursor to the identity
 * file: the next sync starts after it. If a method throws, the cursor is not saved and the entry
 * comes again on a later sync (delivery is at least once).
 */
public interface DeliveryListener {

  /** A delivery whose signature and id were checked. */
  void onDelivery(Delivery delivery) throws Exception;

  /**
   * A delivery the client refuses: its signature does not verify or it is malformed. It is not
   * passed to {@link #onDelivery}. Report it loudly. Its cursor is then saved like any other: the
   * server would send the same bytes again.
   */
  void onRefused(InvalidMessageException refused) throws Exception;

  /** The connection is lost and will not be resumed (the client was closed, or cannot reconnect). */
  default void onClosed(Throwable cause) {}
}
