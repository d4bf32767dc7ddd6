package org.esmp.load.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class OpensslSpeedTest {

  @Test
  void readsOneCoreVerifyAndSignRatesFromTheLastLines() throws IOException {
    // the stdout of `openssl speed -seconds 3 ed25519` on the build machine (OpenSSL 3.0.19)
    OpensslSpeed.Result result = OpensslSpeed.parse(resource("/openssl/speed-ed25519-3.0.19.txt"), 3);

    assertTrue(result.available());
    assertEquals(6055.4, result.verifyPerSecond(), 1e-9);
    assertEquals(12841.1, result.signPerSecond(), 1e-9);
    assertEquals("3.0.19", result.version());
    assertEquals(3, result.seconds());
  }

  @Test
  void readsTheOlderOutputWithoutAVersionLine() {
    String openssl111 = String.join("\n",
        "OpenSSL 1.1.1w  11 Sep 2023",
        "                              sign    verify    sign/s verify/s",
        " 253 bits EdDSA (Ed25519)   0.0000s   0.0001s  22436.0   8025.3", "");

    OpensslSpeed.Result result = OpensslSpeed.parse(openssl111, 3);

    assertEquals(8025.3, result.verifyPerSecond(), 1e-9);
    assertEquals(null, result.version());
  }

  @Test
  void saysSoWhenTheOutputHasNoEd25519Line() {
    OpensslSpeed.Result result = OpensslSpeed.parse("speed: Unknown algorithm ed25519\n", 3);

    assertFalse(result.available());
    assertTrue(Double.isNaN(result.ratio(1000)));
  }

  @Test
  void comparesRatesAndCostsWithOneVerification() {
    OpensslSpeed.Result result = new OpensslSpeed.Result(10_000, 8_000, "3", 3, null);

    assertEquals(1.5, result.ratio(12_000), 1e-9);          // 12,000 msg/s is 1.5 cores' worth of verifies
    assertEquals(2.0, result.costRatio(250), 1e-9);         // 250 µs = two verifications of 125 µs
  }

  private static String resource(String name) throws IOException {
    try (InputStream in = OpensslSpeedTest.class.getResourceAsStream(name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
