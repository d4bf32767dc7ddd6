package org.esmp.load.stats;

import org.HdrHistogram.ConcurrentHistogram;

/**
 * A latency distribution recorded from many threads at once (HdrHistogram, microsecond units,
 * three significant digits, so any percentile is within 0.1% of the recorded value). Recording is
 * wait-free; read {@link #summary} once the recording threads are done.
 */
public final class LatencyStats {

  private final ConcurrentHistogram histogram = new ConcurrentHistogram(3);

  /** Records one latency, in nanoseconds; a negative one (clock order across threads) as 0. */
  public void record(long nanos) {
    histogram.recordValue(Math.max(0, nanos) / 1_000);
  }

  /** The number of latencies recorded so far. */
  public long count() {
    return histogram.getTotalCount();
  }

  /** Count, percentiles, mean and maximum of what was recorded, in milliseconds. */
  public Summary summary() {
    if (histogram.getTotalCount() == 0) {
      return new Summary(0, 0, 0, 0, 0, 0);
    }
    return new Summary(histogram.getTotalCount(), millis(histogram.getValueAtPercentile(50)),
        millis(histogram.getValueAtPercentile(99)), millis(histogram.getValueAtPercentile(99.9)),
        millis(histogram.getMaxValue()), histogram.getMean() / 1_000);
  }

  private static double millis(long micros) {
    return micros / 1_000.0;
  }

  /** A latency distribution in milliseconds. */
  public record Summary(long count, double p50, double p99, double p999, double max, double mean) {}
}
