package org.esmp.load.net;

/**
 * When a {@link Pipeline} writes each frame of a batch: as soon as its window allows, or on a
 * fixed schedule. Paced latencies count from the scheduled time, not the actual write, so that a
 * writer held back by a full window (the server falling behind) shows in them instead of hiding
 * (no coordinated omission).
 *
 * @param startNanos when frame 0 is due ({@link System#nanoTime} clock)
 * @param intervalNanos between two frames; 0 for no schedule
 */
public record Pacing(long startNanos, double intervalNanos) {

  /** No schedule: each frame as soon as the window has room. */
  public static Pacing unpaced() {
    return new Pacing(0, 0);
  }

  /** {@code perSecond} frames a second, the first at {@code startNanos}. */
  public static Pacing rate(long startNanos, double perSecond) {
    if (!(perSecond > 0)) {
      throw new IllegalArgumentException("a rate must be positive: " + perSecond);
    }
    return new Pacing(startNanos, 1e9 / perSecond);
  }

  public boolean paced() {
    return intervalNanos > 0;
  }

  /** When frame {@code k} is due. */
  public long due(int k) {
    return startNanos + (long) (k * intervalNanos);
  }
}
