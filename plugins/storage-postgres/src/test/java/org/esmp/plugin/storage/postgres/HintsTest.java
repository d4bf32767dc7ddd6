package org.esmp.plugin.storage.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.esmp.api.Address;
import org.junit.jupiter.api.Test;

/** The wake-up payloads: split under PostgreSQL's limit, read back whole, malformed ones ignored. */
class HintsTest {

  @Test
  void manyAddressesAreSplitIntoPayloadsUnderTheLimitAndReadBackWhole() {
    Map<String, Long> cursors = new LinkedHashMap<>();
    for (int i = 0; i < 500; i++) {
      cursors.put(new Address("user-" + i + "-" + "x".repeat(50), "example.com").toString(), 1_000_000_000L + i);
    }
    List<String> payloads = Hints.encode("node1", cursors);
    assertTrue(payloads.size() > 1, "split");
    Map<Address, Long> read = new HashMap<>();
    for (String payload : payloads) {
      assertTrue(payload.getBytes(StandardCharsets.UTF_8).length <= Hints.MAX_BYTES);
      Hints.Hint hint = Hints.decode(payload).orElseThrow();
      assertEquals("node1", hint.node());
      read.putAll(hint.cursors());
    }
    Map<Address, Long> expected = new HashMap<>();
    cursors.forEach((a, c) -> expected.put(Address.parse(a), c));
    assertEquals(expected, read);
  }

  @Test
  void aCatchUpReadsAsOne() {
    Hints.Hint hint = Hints.decode(Hints.catchUp("n")).orElseThrow();
    assertTrue(hint.catchUp());
    assertEquals("n", hint.node());
  }

  @Test
  void ignoresMalformedPayloads() {
    for (String payload : List.of("", "v1", "v1 ", "v2 n\nbob#example.com 3", "v1 n\nbob#example.com", "v1 n\nbob 3",
        "v1 n\nbob#example.com x", "v1 n\nbob#example.com 0", "v1 n\nBOB#example.com 3", "v1 n\n*\nbob#example.com 3",
        "hello world")) {
      assertEquals(Optional.empty(), Hints.decode(payload), payload);
    }
  }
}
