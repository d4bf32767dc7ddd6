package org.esmp.api.testkit;

import org.esmp.api.JsonCodec;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonValue;
import org.esmp.json.ServerJsonCodec;

/**
 * The server's own JSON codec ({@code esmp-json}), for plugin tests: compact output in member
 * order, RFC 8785 canonical output, and the strict I-JSON parser frames go through (duplicate
 * names, lone surrogates, integers beyond 2^53−1 refused), so that what a plugin stores and reads
 * back in a test is exactly what the server would store and read. Thread-safe.
 */
public final class TestJsonCodec implements JsonCodec {

  private final JsonCodec server = new ServerJsonCodec();

  @Override
  public byte[] write(JsonValue value) {
    return server.write(value);
  }

  @Override
  public byte[] canonical(JsonValue value) {
    return server.canonical(value);
  }

  @Override
  public JsonObject parseObject(byte[] utf8) {
    return server.parseObject(utf8);
  }
}
