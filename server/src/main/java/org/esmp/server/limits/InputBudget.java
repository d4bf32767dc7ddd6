package org.esmp.server.limits;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The server's one budget for input: bytes read from clients and not yet answered (frames being
 * verified, dispatched or waiting for their answer, and started lines), across all connections.
 *
 * <p>While all connections together hold more than {@code total}, a connection that holds more than
 * its equal part of it among the connections holding anything (and more than {@code minShare}, the
 * room for one small frame that every connection keeps) is over its share: the server stops
 * reading it (back-pressure: what the client sends waits in its socket) until its frames are
 * answered or the pressure is gone. A client that sends little is read on.
 *
 * <p>Thread-safe. Each connection reports its own changes, in order ({@link #held}).
 */
public final class InputBudget {

  private final long total;
  private final long minShare;
  private final AtomicLong held = new AtomicLong();
  private final AtomicInteger holders = new AtomicInteger();

  /**
   * @param total bytes all connections together may hold before each is held to its share
   * @param minShare bytes a connection may always hold
   */
  public InputBudget(long total, long minShare) {
    if (minShare < 1 || total < minShare) {
      throw new IllegalArgumentException("need 0 < minShare <= total, got " + minShare + ", " + total);
    }
    this.total = total;
    this.minShare = minShare;
  }

  /** One connection's held bytes went from {@code before} to {@code after}. */
  public void held(long before, long after) {
    if (before == after) {
      return;
    }
    held.addAndGet(after - before);
    if (before == 0) {
      holders.incrementAndGet();
    } else if (after == 0) {
      holders.decrementAndGet();
    }
  }

  /** Whether a connection holding {@code holding} bytes is over its share. */
  public boolean over(long holding) {
    return holding > minShare && held.get() > total && holding > total / Math.max(1, holders.get());
  }

  /** Bytes held for all connections together now. */
  public long held() {
    return held.get();
  }

  public long total() {
    return total;
  }
}
