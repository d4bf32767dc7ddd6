package org.esmp.server.limits;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One of the server's memory budgets, shared by all connections: bytes held for clients (input
 * read and not yet answered, or output queued and not yet written), each connection's part and the
 * total.
 *
 * <p>A connection is over its share when it holds more than its own limit, or when all connections
 * together hold more than the total and it holds more than its equal part of the total among the
 * connections holding anything (and more than the floor, the room every connection keeps). What
 * a connection over its share gets is its caller's business: for input, it is not read; for
 * output, it gets no more pushes and is closed if it stays over.
 *
 * <p>Thread-safe. Each connection reports its own changes, in order ({@link #change}).
 */
public final class MemoryBudget {

  /** The output a connection may have queued whatever the pressure. */
  public static final long OUTPUT_FLOOR = 16 * 1024;
  /** The input a connection may hold whatever the pressure: a small frame (an auth, a lookup). */
  public static final long INPUT_FLOOR = 8 * 1024;

  private final long perConnection;
  private final long total;
  private final long floor;
  private final AtomicLong used = new AtomicLong();
  private final AtomicInteger holders = new AtomicInteger();

  private MemoryBudget(long perConnection, long total, long floor) {
    if (perConnection < 1 || floor < 1 || total < floor) {
      throw new IllegalArgumentException(
          "need positive limits and floor <= total, got " + perConnection + ", " + total + ", " + floor);
    }
    this.perConnection = perConnection;
    this.total = total;
    this.floor = floor;
  }

  /** Output queued to clients: at most {@code perConnection} each, {@code total} together. */
  public static MemoryBudget output(long perConnection, long total) {
    return new MemoryBudget(perConnection, total, OUTPUT_FLOOR);
  }

  /** Input read and not yet answered: {@code total} together, no limit of its own per connection. */
  public static MemoryBudget input(long total) {
    return new MemoryBudget(Long.MAX_VALUE, total, INPUT_FLOOR);
  }

  /** One connection's bytes went from {@code before} to {@code after}. */
  public void change(long before, long after) {
    if (before == after) {
      return;
    }
    used.addAndGet(after - before);
    if (before == 0) {
      holders.incrementAndGet();
    } else if (after == 0) {
      holders.decrementAndGet();
    }
  }

  /** Whether a connection holding {@code own} bytes is over its share. */
  public boolean over(long own) {
    if (own > perConnection) {
      return true;
    }
    return own > floor && used.get() > total && own > total / Math.max(1, holders.get());
  }

  /** Bytes held for all connections together now. */
  public long used() {
    return used.get();
  }
}
