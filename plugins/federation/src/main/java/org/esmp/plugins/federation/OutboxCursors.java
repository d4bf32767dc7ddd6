package org.esmp.plugins.federation;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.esmp.api.Address;
import org.esmp.api.MailboxEntry;
import org.esmp.api.Store;
import org.esmp.api.Writes;
import org.esmp.api.federation.Federation;

/**
 * Where the outbox of one domain stands, per address: the <b>sent</b> cursor (kept in space
 * {@value #SPACE}, key the address: every entry up to it was answered by the peer, or turned into a
 * notice), what was <b>written</b> on the current connection, and the newest cursor. Answers and
 * notices are collected and committed together ({@link #commit}): a notice is durable exactly when
 * the sent cursor passes its entry. Used by the peer's own thread only.
 */
final class OutboxCursors {

  /** Where sent cursors are kept: key the address, value the cursor in decimal. */
  static final String SPACE = "federation.sent";

  /** Most entries read from one address at a time. */
  static final int PAGE = 256;

  private static final long COMMIT_SECONDS = 30;

  /** One address's position. */
  private static final class Position {
    long sent;
    long answered;
    long written;
    long last;
    int inFlight;
  }

  /** An outbox entry to send, and to whom. */
  record Outgoing(Address recipient, MailboxEntry entry) {}

  private final String domain;
  private final Federation federation;
  private final Store store;
  private final Map<Address, Position> positions = new LinkedHashMap<>();
  private final Map<Address, Long> toCommit = new LinkedHashMap<>();
  private final List<Writes.Append> notices = new ArrayList<>();
  private List<Address> order = List.of();
  private int next;

  OutboxCursors(String domain, Federation federation, Store store) {
    this.domain = domain;
    this.federation = federation;
    this.store = store;
  }

  /** Reads the domain's addresses and their newest cursors again: new entries may be there. */
  void refresh() {
    List<Address> addresses = federation.outboxAddresses(domain);
    for (Address address : addresses) {
      Position position = positions.computeIfAbsent(address, this::load);
      position.last = Math.max(position.last, federation.lastCursor(address));
    }
    order = List.copyOf(positions.keySet());
  }

  private Position load(Address address) {
    Position position = new Position();
    position.sent = store.get(SPACE, address.toString())
        .map(b -> Long.parseLong(new String(b, StandardCharsets.US_ASCII))).orElse(0L);
    position.answered = position.sent;
    position.written = position.sent;
    return position;
  }

  /** Entries waiting: not answered nor passed yet (those retention trimmed still counted). */
  long depth() {
    long depth = 0;
    for (Position position : positions.values()) {
      depth += Math.max(0, position.last - position.answered);
    }
    return depth;
  }

  /** Whether anything waits to be written on the current connection. */
  boolean hasUnwritten() {
    for (Position position : positions.values()) {
      if (position.written < position.last) {
        return true;
      }
    }
    return false;
  }

  /**
   * Up to {@code max} entries not yet written on this connection, in cursor order per address,
   * taken from the addresses in turn; each counts as in flight until {@link #answered}.
   */
  List<Outgoing> next(int max) {
    List<Outgoing> out = new ArrayList<>();
    int idle = 0;
    while (out.size() < max && !order.isEmpty() && idle < order.size()) {
      next = next % order.size();
      Address address = order.get(next++);
      Position position = positions.get(address);
      if (position.written >= position.last) {
        idle++;
        continue;
      }
      idle = 0;
      List<MailboxEntry> entries = federation.read(address, position.written, Math.min(PAGE, max - out.size()));
      if (entries.isEmpty()) {
        position.written = position.last; // trimmed by retention: nothing left to send there
        if (position.inFlight == 0) {
          position.answered = position.written;
          toCommit.put(address, position.answered);
        }
        continue;
      }
      for (MailboxEntry entry : entries) {
        out.add(new Outgoing(address, entry));
        position.written = entry.cursor();
        position.inFlight++;
      }
    }
    return out;
  }

  /**
   * The peer answered {@code recipient}'s entry at {@code cursor} (entries are answered in the
   * order written); {@code notice} goes into the same commit as the cursor.
   */
  void answered(Address recipient, long cursor, Optional<Writes.Append> notice) {
    Position position = positions.get(recipient);
    position.inFlight--;
    // With nothing of the address in flight, entries skipped as trimmed are passed as well.
    position.answered = Math.max(position.answered, position.inFlight == 0 ? position.written : cursor);
    toCommit.put(recipient, position.answered);
    notice.ifPresent(notices::add);
  }

  /** The addresses with nothing in flight, and where their unsent entries start: what a sweep may pass. */
  Map<Address, Long> idle() {
    Map<Address, Long> idle = new LinkedHashMap<>();
    positions.forEach((address, position) -> {
      if (position.inFlight == 0 && position.last > Math.max(position.written, position.answered)) {
        idle.put(address, Math.max(position.written, position.answered));
      }
    });
    return idle;
  }

  /** Passes {@code recipient}'s entries up to {@code cursor} unsent (an idle address's), with a notice. */
  void pass(Address recipient, long cursor, Optional<Writes.Append> notice) {
    Position position = positions.get(recipient);
    position.written = Math.max(position.written, cursor);
    position.answered = Math.max(position.answered, cursor);
    toCommit.put(recipient, position.answered);
    notice.ifPresent(notices::add);
  }

  /** How many answers and notices wait for {@link #commit}. */
  int uncommitted() {
    return toCommit.size() + notices.size();
  }

  /**
   * Makes the sent cursors and notices collected so far durable, in one commit.
   *
   * @throws PeerException when the storage did not commit them (they are sent again later)
   */
  void commit() throws PeerException {
    if (toCommit.isEmpty() && notices.isEmpty()) {
      return;
    }
    Writes.Builder writes = Writes.builder();
    toCommit.forEach((address, cursor) ->
        writes.put(SPACE, address.toString(), Long.toString(cursor).getBytes(StandardCharsets.US_ASCII)));
    notices.forEach(n -> writes.append(n.address(), n.entry()));
    try {
      store.commit(writes.build()).toCompletableFuture().get(COMMIT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new PeerException("could not keep the sent cursors: " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      throw new PeerException("could not keep the sent cursors: the storage did not answer", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PeerException("interrupted while keeping the sent cursors", e);
    }
    toCommit.forEach((address, cursor) -> positions.get(address).sent = cursor);
    toCommit.clear();
    notices.clear();
  }

  /**
   * Forgets every position, so that the next {@link #refresh} reads the sent cursors from the store
   * again: another server of a cluster may have sent meanwhile (nothing of this one is in flight).
   */
  void reload() {
    positions.clear();
    toCommit.clear();
    notices.clear();
    order = List.of();
    next = 0;
  }

  /**
   * The connection is gone: what is not committed is forgotten, and every address is sent again
   * from its sent cursor, in order.
   */
  void rewind() {
    toCommit.clear();
    notices.clear();
    for (Position position : positions.values()) {
      position.answered = position.sent;
      position.written = position.sent;
      position.inFlight = 0;
    }
  }
}
