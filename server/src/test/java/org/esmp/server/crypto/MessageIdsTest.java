package org.esmp.server.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.esmp.api.Ed25519Key;
import org.esmp.api.MessageId;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The {@code valid} entries of the ESMP signing vectors: each signature verifies over the UTF-8 of
 * its signing bytes under its sender key, the id is computed as given, and any change to the bytes
 * breaks the signature.
 */
class MessageIdsTest {

  private static final String VECTORS = "/vectors/esmp/messages.json";

  private final Ed25519Verifier verifier = new Ed25519Verifier(16);

  private record Vector(String name, Ed25519Key key, byte[] signingBytes, byte[] signature,
      String id) {}

  private static List<Vector> validVectors() throws IOException {
    JsonNode root;
    try (InputStream in = MessageIdsTest.class.getResourceAsStream(VECTORS)) {
      root = new ObjectMapper().readTree(in);
    }
    List<Vector> vectors = new ArrayList<>();
    int index = 0;
    for (JsonNode v : root.get("valid")) {
      vectors.add(new Vector(
          "valid[" + index++ + "] " + v.get("unsigned").get("type").asText(),
          Ed25519Key.fromBase64(v.get("sender_pubkey").asText()),
          v.get("signing_bytes").asText().getBytes(StandardCharsets.UTF_8),
          Base64.getDecoder().decode(v.get("signature").asText()),
          v.get("id").asText()));
    }
    return vectors;
  }

  @TestFactory
  List<DynamicTest> signatureVerifiesOverTheSigningBytes() throws IOException {
    return validVectors().stream()
        .map(v -> DynamicTest.dynamicTest(v.name(), () -> assertTrue(
            verifier.verify(v.key(), v.signature(), v.signingBytes(), 0, v.signingBytes().length),
            v.name())))
        .toList();
  }

  @TestFactory
  List<DynamicTest> idIsTheHashOfKeyAndSigningBytes() throws IOException {
    return validVectors().stream()
        .map(v -> DynamicTest.dynamicTest(v.name(), () -> assertEquals(
            new MessageId(v.id()), MessageIds.of(v.key(), v.signingBytes()), v.name())))
        .toList();
  }

  @TestFactory
  List<DynamicTest> anyChangedByteBreaksTheSignature() throws IOException {
    return validVectors().stream()
        .map(v -> DynamicTest.dynamicTest(v.name(), () -> {
          byte[] bytes = v.signingBytes();
          for (int i = 0; i < bytes.length; i++) {
            byte[] tampered = bytes.clone();
            tampered[i] ^= 0x20;
            assertFalse(verifier.verify(v.key(), v.signature(), tampered, 0, tampered.length),
                v.name() + ", byte " + i);
          }
          assertFalse(verifier.verify(v.key(), v.signature(), bytes, 0, bytes.length - 1),
              v.name() + ", truncated");
        }))
        .toList();
  }

  @Test
  void twoSendersNeverShareAnId() throws IOException {
    List<Vector> vectors = validVectors();
    Vector a = vectors.get(0);
    Vector b = vectors.stream().filter(v -> !v.key().equals(a.key())).findFirst().orElseThrow();
    assertNotEquals(MessageIds.of(a.key(), a.signingBytes()),
        MessageIds.of(b.key(), a.signingBytes()));
  }

  @Test
  void aFailedCallDoesNotCorruptTheNextId() throws IOException {
    Vector v = validVectors().get(0);
    assertThrows(NullPointerException.class, () -> MessageIds.of(v.key(), null));
    assertEquals(new MessageId(v.id()), MessageIds.of(v.key(), v.signingBytes()));
  }
}
