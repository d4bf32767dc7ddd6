package org.esmp.server.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.esmp.api.Ed25519Key;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every case of Wycheproof's {@code ed25519_test.json}: valid signatures verify, invalid ones
 * (malleable S, bad encodings, truncated or padded signatures, edge-case values) do not. Each case
 * runs twice on one shared verifier, so the second run goes through the key cache.
 */
class WycheproofEd25519Test {

  private static final String VECTORS = "/vectors/wycheproof/ed25519_test.json";
  private static final HexFormat HEX = HexFormat.of();

  @TestFactory
  List<DynamicTest> wycheproofCases() throws IOException {
    JsonNode root;
    try (InputStream in = WycheproofEd25519Test.class.getResourceAsStream(VECTORS)) {
      root = new ObjectMapper().readTree(in);
    }
    Ed25519Verifier verifier = new Ed25519Verifier(64);
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode group : root.get("testGroups")) {
      Ed25519Key key = Ed25519Key.of(HEX.parseHex(group.get("publicKey").get("pk").asText()));
      for (JsonNode test : group.get("tests")) {
        int tcId = test.get("tcId").asInt();
        String result = test.get("result").asText();
        String name = "tcId " + tcId + " " + result + " " + test.get("flags") + " "
            + test.get("comment").asText();
        byte[] message = HEX.parseHex(test.get("msg").asText());
        byte[] signature = HEX.parseHex(test.get("sig").asText());
        tests.add(DynamicTest.dynamicTest(name, () -> {
          for (int run = 1; run <= 2; run++) {
            boolean verified = verifier.verify(key, signature, message, 0, message.length);
            switch (result) {
              // The name repeated here because surefire's reports show only the factory's index.
              case "valid" -> assertTrue(verified, name + ", run " + run);
              case "invalid" -> assertFalse(verified, name + ", run " + run);
              default -> throw new AssertionError("this file has no acceptable cases: " + result);
            }
          }
        }));
      }
    }
    assertEquals(root.get("numberOfTests").asInt(), tests.size(), "every case is run");
    return tests;
  }
}
