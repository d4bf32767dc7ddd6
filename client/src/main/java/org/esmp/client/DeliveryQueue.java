package org.esmp.client;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The mailbox as a stream, from {@link EsmpClient#syncQueue()}: {@link #take} the next delivery,
 * handle it, then call {@link #done} to save its cursor. A refused delivery (its signature does
 * not verify) comes out of {@link #take} as an {@link InvalidMessageException}, in its place in
 * the stream. Safe for one consumer thread.
 */
public final class DeliveryQueue implements DeliveryListener {

  private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
  private final Identity identity;

  DeliveryQueue(Identity identity) {
    this.identity = identity;
  }

  @Override
  public void onDelivery(Delivery delivery) {
    queue.add(delivery);
  }

  @Override
  public void onRefused(InvalidMessageException refused) {
    queue.add(refused);
  }

  /**
   * The next delivery, waiting at most {@code timeout}; null if none came.
   *
   * @throws InvalidMessageException for a delivery the client refuses
   */
  public Delivery take(Duration timeout) throws InvalidMessageException, InterruptedException {
    Object next = queue.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
    if (next instanceof InvalidMessageException refused) {
      throw new InvalidMessageException(refused.getMessage(), refused.delivery());
    }
    return (Delivery) next;
  }

  /** Saves {@code delivery}'s cursor: the next sync starts after it. */
  public void done(Delivery delivery) throws IOException {
    if (delivery != null && delivery.cursor() != null) {
      identity.saveCursor(delivery.cursor());
    }
  }
}
