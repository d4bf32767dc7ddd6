package org.esmp.api;

import java.util.Objects;

/**
 * A key and its value, as {@link Store#scan} returns them.
 *
 * @param key the key within its space
 * @param value the value; a copy the caller may keep
 */
public record Stored(String key, byte[] value) {

  /** Checks for {@code null}. */
  public Stored {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
  }
}
