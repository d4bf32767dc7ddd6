package org.esmp.json;

import org.esmp.api.JsonCodec;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonValue;

/** The {@link JsonCodec} offered to plugins: {@link JsonWriter} and a strict {@link FrameParser}. */
public final class ServerJsonCodec implements JsonCodec {

  private final FrameParser parser = new FrameParser(FrameParser.MAX_SUPPORTED_DEPTH);

  @Override
  public byte[] write(JsonValue value) {
    return JsonWriter.write(value);
  }

  @Override
  public byte[] canonical(JsonValue value) {
    return JsonWriter.canonical(value);
  }

  @Override
  public JsonObject parseObject(byte[] utf8) {
    try {
      return parser.parse(utf8, 0, utf8.length);
    } catch (BadJsonException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }
}
