package org.esmp.client;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The client's RFC 8785 and signing against the project's vectors (copied from shared/vectors). */
class SigningVectorsTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @ParameterizedTest
  @ValueSource(strings = {"arrays", "french", "structures", "unicode", "values", "weird"})
  void canonicalizesTheRfc8785Vectors(String name) throws IOException {
    JsonNode input = JSON.readTree(resource("vectors/jcs/input/" + name + ".json"));
    byte[] expected = resource("vectors/jcs/output/" + name + ".json");
    assertEquals(new String(trimNewline(expected), UTF_8), new String(Jcs.canonical(input), UTF_8));
    byte[] hex = HexFormat.of().parseHex(new String(resource("vectors/jcs/outhex/" + name + ".txt"),
        UTF_8).replaceAll("\\s+", ""));
    assertArrayEquals(hex, Jcs.canonical(input));
  }

  static Stream<Arguments> validMessages() throws IOException {
    List<Arguments> out = new ArrayList<>();
    for (JsonNode v : vectors().path("valid")) {
      out.add(Arguments.of(v.path("unsigned").toString(), v));
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("validMessages")
  void signsLikeTheVectors(String unsigned, JsonNode vector) throws IOException {
    SigningKey key = SigningKey.fromSeed(HexFormat.of().parseHex(vector.path("seed_hex").asText()));
    assertEquals(vector.path("sender_pubkey").asText(), key.publicKeyBase64());
    ObjectNode message = (ObjectNode) vector.path("unsigned").deepCopy();
    assertEquals(vector.path("signing_bytes").asText(), new String(Messages.signingBytes(message), UTF_8));

    Messages.Signed signed = Messages.sign(message, key);
    assertEquals(vector.path("id").asText(), signed.id());
    assertEquals(vector.path("signature").asText(), signed.frame().path("signature").asText());

    JsonNode frame = JSON.readTree(vector.path("frame").asText());
    assertEquals(vector.path("id").asText(), Messages.verify(frame));
  }

  @Test
  void refusesTheVectorsWithBadSignatures() throws IOException {
    int checked = 0;
    for (JsonNode reject : vectors().path("rejects")) {
      if (!reject.path("code").asText().equals("bad_signature")) {
        continue;
      }
      JsonNode frame;
      try {
        frame = JSON.readTree(reject.path("frame").asText());
      } catch (IOException notJson) {
        continue;
      }
      assertThrows(InvalidMessageException.class, () -> Messages.verify(frame),
          reject.path("why").asText());
      checked++;
    }
    assertEquals(true, checked >= 2, "expected bad_signature vectors, found " + checked);
  }

  @Test
  void refusesIntegersBeyondTwoToThe53() throws IOException {
    JsonNode big = JSON.readTree("{\"n\":9007199254740993}");
    assertThrows(IllegalArgumentException.class, () -> Jcs.canonical(big));
    assertEquals("{\"n\":9007199254740991}",
        new String(Jcs.canonical(JSON.readTree("{\"n\":9007199254740991}")), UTF_8));
  }

  private static JsonNode vectors() throws IOException {
    return JSON.readTree(resource("vectors/esmp/messages.json"));
  }

  private static byte[] resource(String name) throws IOException {
    try (InputStream in = SigningVectorsTest.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new IOException("no test resource " + name);
      }
      return in.readAllBytes();
    }
  }

  private static byte[] trimNewline(byte[] b) {
    int n = b.length;
    while (n > 0 && (b[n - 1] == '\n' || b[n - 1] == '\r')) {
      n--;
    }
    return java.util.Arrays.copyOf(b, n);
  }
}
