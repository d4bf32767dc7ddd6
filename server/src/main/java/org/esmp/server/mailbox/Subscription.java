package org.esmp.server.mailbox;

import java.util.Map;
import java.util.TreeMap;
import org.esmp.api.Address;
import org.esmp.api.MailboxEntry;
import org.esmp.server.session.ConnectionSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection following one mailbox after {@code sync}. Entries reach it in cursor order with
 * no gap and no duplicate: while the backlog is being sent, live entries wait here; afterwards an
 * entry is sent only when it is the next cursor, and an early one waits for its predecessor
 * (commits of one mailbox may complete on different threads).
 */
final class Subscription {

  private static final Logger log = LoggerFactory.getLogger(Subscription.class);

  /** Entries waiting for their turn, at most; a connection that falls this far behind is closed. */
  static final int MAX_WAITING = 10_000;

  final Address address;
  final ConnectionSession session;
  private final Map<Long, MailboxEntry> waiting = new TreeMap<>();
  private boolean catchingUp = true;
  private long lastSent;

  Subscription(Address address, ConnectionSession session) {
    this.address = address;
    this.session = session;
  }

  /** A newly committed entry of the mailbox. */
  synchronized void offer(MailboxEntry entry) {
    if (!catchingUp && entry.cursor() == lastSent + 1) {
      send(entry);
      drain();
    } else if (entry.cursor() > lastSent) {
      waiting.put(entry.cursor(), entry);
      if (waiting.size() > MAX_WAITING) {
        log.warn("Connection {} fell {} entries behind on {}: closing it", session, waiting.size(), address);
        waiting.clear();
        session.close();
      }
    }
  }

  /** The backlog up to {@code last} has been sent: from now on, entries go out live. */
  synchronized void caughtUp(long last) {
    lastSent = last;
    catchingUp = false;
    waiting.keySet().removeIf(cursor -> cursor <= last);
    drain();
  }

  private void drain() {
    MailboxEntry next;
    while ((next = waiting.remove(lastSent + 1)) != null) {
      send(next);
    }
  }

  private void send(MailboxEntry entry) {
    lastSent = entry.cursor();
    session.send(Deliveries.encode(entry));
  }
}
