package org.esmp.plugins.federation;

import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import org.esmp.api.Address;
import org.esmp.api.ErrorCode;
import org.esmp.api.MailboxEntry;
import org.esmp.api.federation.Federation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one domain's outbox within the operator's bounds: entries older than {@code
 * outbox_max_age_hours}, then the oldest past {@code outbox_max_messages}, are passed unsent with a
 * {@code delivery_failed} notice of code {@code peer_unavailable} each. Only addresses with nothing
 * in flight are touched; entries are read a page or one at a time, never all. Runs on the peer's
 * own thread, at start and every minute.
 */
final class OutboxSweep {

  private static final Logger log = LoggerFactory.getLogger(OutboxSweep.class);
  private static final String CODE = ErrorCode.PEER_UNAVAILABLE.wire();

  private final String domain;
  private final Federation federation;
  private final Notices notices;

  OutboxSweep(String domain, Federation federation, Notices notices) {
    this.domain = domain;
    this.federation = federation;
    this.notices = notices;
  }

  /** Passes what is past the bounds; returns how many entries it gave up on. */
  long sweep(OutboxCursors cursors, long nowMillis) throws PeerException {
    long expired = expire(cursors, nowMillis);
    long excess = cursors.depth() - federation.settings().outboxMaxMessages();
    long dropped = excess > 0 ? dropOldest(cursors, excess, nowMillis) : 0;
    cursors.commit();
    if (expired + dropped > 0) {
      log.warn("Federation with {}: gave up on {} entries older than {} and {} past outbox_max_messages ({}); "
          + "their senders get delivery_failed notices", domain, expired,
          federation.settings().outboxMaxAge(), dropped, federation.settings().outboxMaxMessages());
    }
    return expired + dropped;
  }

  private long expire(OutboxCursors cursors, long nowMillis) throws PeerException {
    long cutoff = nowMillis - federation.settings().outboxMaxAge().toMillis();
    long expired = 0;
    for (Map.Entry<Address, Long> idle : cursors.idle().entrySet()) {
      Address address = idle.getKey();
      long after = idle.getValue();
      while (true) {
        List<MailboxEntry> page = federation.read(address, after, OutboxCursors.PAGE);
        boolean fresh = false;
        for (MailboxEntry entry : page) {
          if (entry.receivedAt() >= cutoff) {
            fresh = true;
            break;
          }
          cursors.pass(address, entry.cursor(), notices.failed(entry, address, CODE, nowMillis));
          after = entry.cursor();
          expired++;
        }
        if (cursors.uncommitted() >= OutboxCursors.PAGE) {
          cursors.commit();
        }
        if (fresh || page.size() < OutboxCursors.PAGE) {
          break;
        }
      }
    }
    return expired;
  }

  /** The next unsent entry of one address, by when it was received. */
  private record Head(Address address, long cursor, long receivedAt) {}

  /** Passes the {@code excess} oldest unsent entries of the domain, oldest first across its addresses. */
  private long dropOldest(OutboxCursors cursors, long excess, long nowMillis) throws PeerException {
    PriorityQueue<Head> heads = new PriorityQueue<>((a, b) -> Long.compare(a.receivedAt(), b.receivedAt()));
    for (Map.Entry<Address, Long> idle : cursors.idle().entrySet()) {
      head(idle.getKey(), idle.getValue()).ifPresent(heads::add);
    }
    long dropped = 0;
    while (dropped < excess && !heads.isEmpty()) {
      Head oldest = heads.poll();
      List<MailboxEntry> entry = federation.read(oldest.address(), oldest.cursor() - 1, 1);
      if (!entry.isEmpty()) {
        cursors.pass(oldest.address(), oldest.cursor(),
            notices.failed(entry.get(0), oldest.address(), CODE, nowMillis));
        dropped++;
      }
      head(oldest.address(), oldest.cursor()).ifPresent(heads::add);
      if (cursors.uncommitted() >= OutboxCursors.PAGE) {
        cursors.commit();
      }
    }
    return dropped;
  }

  private java.util.Optional<Head> head(Address address, long after) {
    return federation.read(address, after, 1).stream().findFirst()
        .map(e -> new Head(address, e.cursor(), e.receivedAt()));
  }
}
