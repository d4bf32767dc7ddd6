package org.esmp.api.json;

/** The JSON literal {@code null}. */
public enum JsonNull implements JsonValue {
  /** The one {@code null}. */
  INSTANCE
}
