package org.esmp.api.json;

/**
 * A JSON number, held as the IEEE-754 double it denotes: I-JSON allows no other precision, so
 * {@code 1}, {@code 1.0} and {@code 1E0} are the same value.
 */
public record JsonNumber(double value) implements JsonValue {

  /** The largest integer that I-JSON allows: 2^53 − 1. */
  public static final long MAX_SAFE_INTEGER = (1L << 53) - 1;

  /** @param value a finite double */
  public JsonNumber {
    if (!Double.isFinite(value)) {
      throw new IllegalArgumentException("JSON numbers are finite, got " + value);
    }
  }

  /** Shorthand for a number holding {@code value}, which must lie within ±(2^53−1). */
  public static JsonNumber of(long value) {
    if (value > MAX_SAFE_INTEGER || value < -MAX_SAFE_INTEGER) { // not Math.abs: it overflows at Long.MIN_VALUE
      throw new IllegalArgumentException("integer beyond 2^53-1: " + value);
    }
    return new JsonNumber(value);
  }

  /** Whether this number is a whole number within ±(2^53−1), so that {@link #longValue()} is exact. */
  public boolean isSafeInteger() {
    return value == Math.rint(value) && Math.abs(value) <= MAX_SAFE_INTEGER;
  }

  /** The value as a long; exact when {@link #isSafeInteger()} holds. */
  public long longValue() {
    return (long) value;
  }

  @Override
  public boolean equals(Object other) {
    // -0 and 0 serialize alike in RFC 8785, so they are one JSON value here.
    return other instanceof JsonNumber n && n.value == value;
  }

  @Override
  public int hashCode() {
    return Double.hashCode(value == 0.0 ? 0.0 : value);
  }
}
