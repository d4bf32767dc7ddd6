package org.esmp.server.mailbox;

import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.esmp.api.Address;
import org.esmp.api.MailboxEntry;
import org.esmp.api.spi.Storage;
import org.esmp.server.session.ConnectionSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection following one mailbox after {@code sync}: every entry after the sync's cursor
 * goes to the connection in cursor order, with no gap and no duplicate, first the backlog and then
 * each entry as it is committed.
 *
 * <p><b>The storage is the truth, offers are hints.</b> Every committed entry is {@link #offer
 * offered}. When it is the next cursor and nothing is being read, it is sent at once: the common
 * case costs no read. Any other offer (one that came early, because commits of one mailbox can
 * complete on different threads, or one beyond a backlog still being sent) only raises the
 * target, and the subscription reads from the storage, in pages, up to it. Every cursor up to a
 * committed one is committed too, so the read finds every entry up to the target, or finds it gone
 * (past retention) and skips it. So a late or lost offer costs a read, never a stall, and a
 * subscription holds no entries in memory beyond the page being sent.
 *
 * <p><b>Output budget.</b> While the connection is over its share of the output budget, nothing is
 * sent or read: offers only raise the target, and the subscription waits for the connection to
 * drain ({@link ConnectionSession#whenOutputDrains}), then reads from the storage what it missed.
 * A connection that stays over is closed, and its client syncs again: nothing is lost, and a
 * client that stopped reading holds at most its share of the server's memory.
 *
 * <p><b>Threads.</b> Reads run on the workers, one at a time per subscription; the next page is
 * read only once the previous one has been written to the socket, so a slow reader holds back its
 * own backlog and nothing else. {@link #offer} never blocks and may be called from any thread.
 */
final class Subscription {

  private static final Logger log = LoggerFactory.getLogger(Subscription.class);

  /** Entries read and sent per step of a read; bounds memory per subscription. */
  static final int PAGE = 100;

  final Address address;
  final ConnectionSession session;
  private final Storage storage;
  private final Executor workers;
  /** Completes with the sync's last cursor once everything up to it has been sent. */
  private final CompletableFuture<Long> synced = new CompletableFuture<>();

  // All guarded by this.
  private long syncedCursor;
  /** The cursor of the last entry handed to the connection. */
  private long lastSent;
  /** The highest cursor known to be committed. */
  private long target;
  /**
   * Whether a read is running (from the storage read until its page has been written), or, before
   * {@link #start}, will. Invariant: when neither this nor {@code paused}, {@code lastSent >= target}.
   */
  private boolean reading = true;
  /** Whether sending waits for the connection to drain; exclusive with {@code reading}. */
  private boolean paused;
  private boolean stopped;

  /** @param workers where the storage is read (never an event loop: reads may wait for a commit) */
  Subscription(Address address, ConnectionSession session, Storage storage, Executor workers) {
    this.address = address;
    this.session = session;
    this.storage = storage;
    this.workers = workers;
  }

  /**
   * Sends the entries after {@code since} up to {@code last}, the mailbox's last cursor when the
   * subscription was already receiving offers, and goes on with later ones.
   *
   * @return completes with {@code last} once the backlog has been sent; fails if the connection
   *     closed or the storage failed first
   */
  CompletableFuture<Long> start(long since, long last) {
    boolean read;
    synchronized (this) {
      syncedCursor = last;
      lastSent = since;
      // Offers that came before this (the subscription follows the mailbox before last is read)
      // raised the target; none was sent.
      target = Math.max(target, last);
      read = lastSent < target;
      reading = read;
    }
    if (read) {
      workers.execute(this::readPage);
    } else {
      completeSyncedIfDone();
    }
    return synced;
  }

  /** A newly committed entry of the mailbox, at {@code cursor} in it. */
  void offer(long cursor, EncodedEntry entry) {
    boolean pause;
    synchronized (this) {
      if (stopped || cursor <= lastSent) {
        return;
      }
      target = Math.max(target, cursor);
      if (reading || paused) {
        return; // the running read goes on until it reaches the target, or the drain starts one
      }
      pause = session.overOutputShare();
      if (!pause && cursor == lastSent + 1) {
        send(cursor, entry.frame(cursor));
        return;
      }
      paused = pause;
      reading = !pause;
    }
    if (pause) {
      session.whenOutputDrains(this::resume);
    } else {
      workers.execute(this::readPage);
    }
  }

  /**
   * Entries up to {@code cursor} were committed elsewhere (another server of a cluster): read from
   * the storage, as for an offer that came early.
   */
  void hint(long cursor) {
    synchronized (this) {
      if (stopped || cursor <= lastSent) {
        return;
      }
      target = Math.max(target, cursor);
      if (reading || paused) {
        return;
      }
      reading = true;
    }
    workers.execute(this::readPage);
  }

  /** The connection drained: reads what was offered meanwhile. */
  private void resume() {
    synchronized (this) {
      if (!paused) {
        return;
      }
      paused = false;
      if (stopped || lastSent >= target) {
        return;
      }
      reading = true;
    }
    workers.execute(this::readPage);
  }

  /** Sends nothing more: the connection closed, or synced again. A sync still waiting fails. */
  void stop() {
    synchronized (this) {
      stopped = true;
    }
    synced.completeExceptionally(new IllegalStateException("connection closed during sync"));
  }

  /** One step of a read: a page from the storage, sent; then the next step once it was written. */
  private void readPage() {
    long after;
    long readTarget;
    boolean pause = false;
    synchronized (this) {
      after = stopped ? -1 : lastSent;
      readTarget = target;
      if (after >= 0 && session.overOutputShare()) {
        pause = true;
        reading = false;
        paused = true;
      }
    }
    if (after < 0) {
      abandon(new IllegalStateException("connection closed during sync"));
      return;
    }
    if (pause) {
      session.whenOutputDrains(this::resume);
      return;
    }
    List<MailboxEntry> page;
    try {
      page = storage.readMailbox(address, after, PAGE);
    } catch (RuntimeException e) {
      log.warn("Connection {}: reading mailbox {} failed; closing the connection", session, address, e);
      abandon(e);
      session.close(); // the client syncs again from its cursor
      return;
    }
    CompletableFuture<Void> written = null;
    boolean gone;
    boolean cut = false;
    boolean more = false;
    synchronized (this) {
      gone = stopped;
      if (!gone) {
        for (MailboxEntry entry : page) {
          if (entry.cursor() > lastSent) {
            if (session.overOutputShare()) {
              cut = true; // the rest waits for the connection to drain
              break;
            }
            written = send(entry.cursor(), Deliveries.frame(entry));
          }
        }
        if (!cut && page.size() < PAGE) {
          // Every entry committed before this read, up to its target, was in the page or is gone.
          lastSent = Math.max(lastSent, readTarget);
        }
        more = !cut && lastSent < target;
        reading = more;
        paused = cut;
      }
    }
    if (gone) {
      abandon(new IllegalStateException("connection closed during sync"));
      return;
    }
    if (cut) {
      session.whenOutputDrains(this::resume);
      return;
    }
    completeSyncedIfDone();
    if (!more) {
      return;
    }
    // The next page is read once this one has left: a large backlog never sits in memory whole.
    CompletableFuture<Void> left = written != null ? written : CompletableFuture.completedFuture(null);
    left.whenCompleteAsync((ok, failure) -> {
      if (failure != null) {
        abandon(failure);
      } else {
        readPage();
      }
    }, workers);
  }

  /** Reads and sends nothing more, after {@code cause}; a sync still waiting fails with it. */
  private void abandon(Throwable cause) {
    synchronized (this) {
      reading = false;
      stopped = true;
    }
    synced.completeExceptionally(cause);
  }

  /**
   * Hands the frame of the entry at {@code cursor} to the connection; holding the lock, so that
   * entries leave in order.
   */
  private CompletableFuture<Void> send(long cursor, ByteBuf frame) {
    lastSent = cursor;
    return session.send(frame);
  }

  private void completeSyncedIfDone() {
    long cursor;
    synchronized (this) {
      if (lastSent < syncedCursor || synced.isDone()) {
        return;
      }
      cursor = syncedCursor;
    }
    synced.complete(cursor); // outside the lock: the answer's chain runs from here
  }
}
