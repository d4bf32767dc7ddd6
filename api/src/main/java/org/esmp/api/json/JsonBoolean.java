package org.esmp.api.json;

/** The JSON literals {@code true} and {@code false}. */
public enum JsonBoolean implements JsonValue {
  /** {@code true} */
  TRUE,
  /** {@code false} */
  FALSE;

  /** The literal for {@code value}. */
  public static JsonBoolean of(boolean value) {
    return value ? TRUE : FALSE;
  }

  /** This literal as a Java boolean. */
  public boolean value() {
    return this == TRUE;
  }
}
