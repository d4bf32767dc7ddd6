package org.esmp.json;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.stream.Stream;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonValue;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** The project's ESMP/1 signing vectors (vectors/esmp/messages.json), JSON part. */
class EsmpSigningVectorsTest {

  private static final FrameParser PARSER = new FrameParser();
  private static final JsonObject VECTORS = parse(Vectors.bytes("esmp/messages.json"));

  @Test
  void hasValidAndRejectedFrames() {
    assertEquals(5, entries("valid").count());
    assertEquals(9, entries("rejects").count());
  }

  @TestFactory
  Stream<DynamicTest> signingBytesAreTheFrameCanonicalizedWithoutSignatureAndKey() {
    return entries("valid")
        .map(v -> DynamicTest.dynamicTest(text(v, "signing_bytes"), () -> {
          JsonObject frame = parse(text(v, "frame").getBytes(UTF_8));
          byte[] signing = JsonWriter.canonicalWithout(frame, "signature", "sender_pubkey");
          assertEquals(text(v, "signing_bytes"), new String(signing, UTF_8));
          assertArrayEquals(text(v, "signing_bytes").getBytes(UTF_8), signing);
        }));
  }

  @TestFactory
  Stream<DynamicTest> signingBytesAreTheUnsignedMessageCanonicalized() {
    return entries("valid")
        .map(v -> DynamicTest.dynamicTest(text(v, "signing_bytes"), () -> assertArrayEquals(
            text(v, "signing_bytes").getBytes(UTF_8), JsonWriter.canonical(v.get("unsigned")))));
  }

  @TestFactory
  Stream<DynamicTest> refusesBadJsonRejectsAndParsesTheOthers() {
    return entries("rejects")
        .map(r -> DynamicTest.dynamicTest(text(r, "code") + ": " + text(r, "why"), () -> {
          byte[] frame = text(r, "frame").getBytes(UTF_8);
          if (text(r, "code").equals("bad_json")) {
            assertThrows(BadJsonException.class, () -> PARSER.parse(frame, 0, frame.length));
          } else {
            // Refused later (fields, signature), so the JSON itself must be fine.
            assertDoesNotThrow(() -> PARSER.parse(frame, 0, frame.length));
          }
        }));
  }

  private static Stream<JsonObject> entries(String list) {
    return VECTORS.get(list).asArray().items().stream().map(JsonValue::asObject);
  }

  private static String text(JsonObject o, String name) {
    return o.string(name).orElseThrow();
  }

  private static JsonObject parse(byte[] json) {
    return PARSER.parse(json, 0, json.length);
  }
}
