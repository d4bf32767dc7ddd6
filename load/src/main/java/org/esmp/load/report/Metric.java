package org.esmp.load.report;

/**
 * One measured number of a scenario.
 *
 * @param key a stable snake_case name, the key in the JSON report
 * @param label what it is, for the table
 * @param unit e.g. {@code msg/s}, {@code ms}, {@code µs/msg}, {@code KiB}
 * @param ratio how it compares to one core's Ed25519 verify rate, if at all
 */
public record Metric(String key, String label, double value, String unit, Ratio ratio) {

  /** The comparison with {@code openssl speed ed25519} that a metric gets. */
  public enum Ratio {
    /** None. */
    NONE,
    /** A rate: value ÷ verifies per second. */
    THROUGHPUT,
    /** A cost per message in µs: value ÷ the time of one verification (1 / rate). */
    COST
  }

  public static Metric of(String key, String label, double value, String unit) {
    return new Metric(key, label, value, unit, Ratio.NONE);
  }

  public static Metric rate(String key, String label, double value, String unit) {
    return new Metric(key, label, value, unit, Ratio.THROUGHPUT);
  }

  public static Metric cost(String key, String label, double micros, String unit) {
    return new Metric(key, label, micros, unit, Ratio.COST);
  }
}
