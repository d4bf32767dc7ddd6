package org.esmp.api.json;

/**
 * An immutable JSON value as the server parsed it from a frame.
 *
 * <p>The server builds these only from I-JSON input (RFC 7493): no duplicate keys, no lone surrogates,
 * every number representable as an IEEE-754 double and every integer within ±(2^53−1). Plugins may
 * also build values to put into answers and pushed frames. Values are deeply immutable and safe to
 * share between threads.
 */
public sealed interface JsonValue permits JsonObject, JsonArray, JsonString, JsonNumber, JsonBoolean, JsonNull {

  /** This value as a {@link JsonObject}, or {@code null} when it is another kind of value. */
  default JsonObject asObject() {
    return this instanceof JsonObject o ? o : null;
  }

  /** This value as a {@link JsonArray}, or {@code null} when it is another kind of value. */
  default JsonArray asArray() {
    return this instanceof JsonArray a ? a : null;
  }

  /** This value's text when it is a {@link JsonString}, else {@code null}. */
  default String asString() {
    return this instanceof JsonString s ? s.value() : null;
  }
}
