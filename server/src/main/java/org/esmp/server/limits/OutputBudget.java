package org.esmp.server.limits;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The server's one budget for output: bytes queued to clients and not yet written to their
 * sockets, answers and pushes alike, per connection and across all connections (ESMP/1 section 3).
 *
 * <p>A connection is over its share when it has more than {@code perConnection} bytes queued, or
 * when all connections together have more than {@code total} queued and it has more than its equal
 * part of {@code total} among the connections that have anything queued (never less than
 * {@link #MIN_SHARE}). A connection over its share gets no more live pushes and is closed if it
 * stays over; its client syncs again from its cursor, so nothing is lost.
 *
 * <p>Thread-safe. The global count moves as bytes are queued and written ({@link #queued}); a
 * connection's own count is the transport's (Netty's pending write bytes), read by the caller.
 */
public final class OutputBudget {

  /** The share no connection is denied, even when all of them together are over the total. */
  public static final long MIN_SHARE = 16 * 1024;

  private final long perConnection;
  private final long total;
  private final AtomicLong queued = new AtomicLong();
  private final AtomicInteger writers = new AtomicInteger();

  /**
   * @param perConnection bytes one connection may have queued
   * @param total bytes all connections together may have queued before each is held to its share
   */
  public OutputBudget(long perConnection, long total) {
    if (perConnection < 1 || total < perConnection) {
      throw new IllegalArgumentException("need 0 < perConnection <= total, got " + perConnection + ", " + total);
    }
    this.perConnection = perConnection;
    this.total = total;
  }

  /**
   * One connection's queued bytes went from {@code before} to {@code after}: queued (more) or
   * written or dropped (less). Each connection reports its own changes, in order.
   */
  public void queued(long before, long after) {
    if (before == after) {
      return;
    }
    queued.addAndGet(after - before);
    if (before == 0) {
      writers.incrementAndGet();
    } else if (after == 0) {
      writers.decrementAndGet();
    }
  }

  /** Whether a connection with {@code pending} bytes queued is over its share. */
  public boolean over(long pending) {
    if (pending > perConnection) {
      return true;
    }
    return pending > MIN_SHARE && queued.get() > total && pending > total / Math.max(1, writers.get());
  }

  /** Bytes queued to all connections together now. */
  public long queued() {
    return queued.get();
  }

  public long perConnection() {
    return perConnection;
  }

  public long total() {
    return total;
  }
}
