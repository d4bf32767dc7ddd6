package org.esmp.client;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;

/**
 * Where a synced mailbox goes: the {@link DeliveryListener} given to {@link EsmpClient#sync} and
 * the highest cursor handed to it, so that entries sent again by a later sync (after a reconnect)
 * are handed out once, and the next sync starts after them.
 *
 * <p><b>Threads.</b> {@link #deliver} is called on a connection's reader thread and calls the
 * listener there, outside any lock; the other methods may be called from any thread. After the
 * listener returns normally, the entry's cursor counts as handed out and, unless the listener
 * saves cursors itself ({@link DeliveryQueue}), is saved to the identity.
 */
final class Mailbox {

  private final Identity identity;
  private DeliveryListener listener; // guarded by this
  private boolean saveAfterListener; // guarded by this: false for a DeliveryQueue, which saves on done()
  private long lastHandedOut; // guarded by this: highest cursor given to the listener

  Mailbox(Identity identity) {
    this.identity = identity;
  }

  /** From now on, deliveries go to {@code listener}; with {@code saveAfter}, their cursors are saved. */
  synchronized void listen(DeliveryListener listener, boolean saveAfter) {
    this.listener = listener;
    this.saveAfterListener = saveAfter;
  }

  /** The listener, or null before a sync and after {@link #stop}. */
  synchronized DeliveryListener listener() {
    return listener;
  }

  /** Forgets the listener (no delivery goes to it any more) and returns it, or null. */
  synchronized DeliveryListener stop() {
    DeliveryListener l = listener;
    listener = null;
    return l;
  }

  /** The {@code since} of the next sync: the saved cursor, or beyond it what was handed out. */
  synchronized long since() {
    return Math.max(identity.cursor(), lastHandedOut);
  }

  /**
   * Verifies a {@code deliver} frame and hands it to the listener ({@code onRefused} if it does
   * not verify), unless there is no listener or its cursor was handed out already. A listener
   * that throws has not handled it: the cursor stays, and the entry comes again on a later sync.
   */
  void deliver(ObjectNode frame) {
    Long cursor = frame.hasNonNull("cursor") ? frame.get("cursor").asLong() : null;
    DeliveryListener target;
    boolean save;
    synchronized (this) {
      target = listener;
      save = saveAfterListener;
      if (target == null || cursor != null && cursor <= lastHandedOut) {
        return; // not synced, or again after a re-sync: already handed out
      }
    }
    try {
      try {
        target.onDelivery(Delivery.verified(frame));
      } catch (InvalidMessageException refused) {
        target.onRefused(refused);
      }
    } catch (Exception listenerFailed) {
      return;
    }
    if (cursor == null) {
      return;
    }
    synchronized (this) {
      lastHandedOut = Math.max(lastHandedOut, cursor);
    }
    if (save) {
      try {
        identity.saveCursor(cursor);
      } catch (IOException e) {
        // The next sync repeats some entries; delivery is at least once anyway.
      }
    }
  }
}
