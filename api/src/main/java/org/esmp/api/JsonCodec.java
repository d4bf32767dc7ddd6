package org.esmp.api;

import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonValue;

/**
 * The server's JSON reader and writer, offered to plugins (for example to store values) so that
 * none needs to bundle a JSON library. Thread-safe.
 */
public interface JsonCodec {

  /** Compact JSON, members in their order, UTF-8. */
  byte[] write(JsonValue value);

  /** RFC 8785 canonical JSON, UTF-8: the form signatures are made over. */
  byte[] canonical(JsonValue value);

  /**
   * Parses one JSON object, with the same strict rules as a frame.
   *
   * @throws IllegalArgumentException when {@code utf8} is not such an object
   */
  JsonObject parseObject(byte[] utf8);
}
