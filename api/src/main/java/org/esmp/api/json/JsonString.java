package org.esmp.api.json;

import java.util.Objects;

/** A JSON string. Its value holds no lone surrogate when it came from the server's parser. */
public record JsonString(String value) implements JsonValue {

  /** @param value the text, never {@code null} */
  public JsonString {
    Objects.requireNonNull(value, "value");
  }

  /** Shorthand for {@code new JsonString(value)}. */
  public static JsonString of(String value) {
    return new JsonString(value);
  }
}
