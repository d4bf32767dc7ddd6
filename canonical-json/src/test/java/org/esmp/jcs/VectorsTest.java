package org.esmp.jcs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The writer against the RFC 8785 test vectors (vectors/jcs: cyberphone/json-canonicalization,
 * Apache-2.0, see its LICENSE) and the project's ESMP/1 signing vectors (vectors/esmp), both
 * copied from shared/vectors byte for byte.
 */
class VectorsTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @ParameterizedTest
  @ValueSource(strings = {"arrays", "french", "structures", "unicode", "values", "weird"})
  void canonicalizesEachRfc8785InputToItsOutputBytes(String name) throws IOException {
    byte[] canonical = JacksonTrees.canonical(JSON.readTree(resource("jcs/input/" + name + ".json")));
    byte[] output = resource("jcs/output/" + name + ".json");
    assertEquals(new String(output, UTF_8), new String(canonical, UTF_8));
    byte[] outhex = HexFormat.of().parseHex(
        new String(resource("jcs/outhex/" + name + ".txt"), UTF_8).replaceAll("\\s+", ""));
    assertArrayEquals(outhex, canonical);
  }

  static List<JsonNode> validMessages() throws IOException {
    List<JsonNode> valid = new ArrayList<>();
    JSON.readTree(resource("esmp/messages.json")).path("valid").forEach(valid::add);
    return valid;
  }

  @Test
  void hasTheValidSigningVectors() throws IOException {
    assertEquals(5, validMessages().size());
  }

  @ParameterizedTest
  @MethodSource("validMessages")
  void signingBytesAreTheFrameWithoutSignatureAndKey(JsonNode vector) throws IOException {
    JsonNode frame = JSON.readTree(vector.path("frame").asText());
    assertEquals(vector.path("signing_bytes").asText(),
        new String(JacksonTrees.canonical(frame, "signature", "sender_pubkey"), UTF_8));
  }

  @ParameterizedTest
  @MethodSource("validMessages")
  void signingBytesAreTheUnsignedMessageCanonicalized(JsonNode vector) {
    assertArrayEquals(vector.path("signing_bytes").asText().getBytes(UTF_8),
        JacksonTrees.canonical(vector.path("unsigned")));
  }

  private static byte[] resource(String path) throws IOException {
    try (InputStream in = VectorsTest.class.getClassLoader().getResourceAsStream("vectors/" + path)) {
      if (in == null) {
        throw new IOException("no test resource vectors/" + path);
      }
      return in.readAllBytes();
    }
  }
}
