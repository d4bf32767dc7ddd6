package org.esmp.server.verify;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.Set;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.esmp.server.crypto.Ed25519Verifier;
import org.esmp.json.FrameParser;

/** Coverage-guided fuzzing of {@link FrameVerifier#check}: any bytes give a verdict, never an exception. */
class FrameVerifierFuzzTest {

  private final FrameVerifier verifier = new FrameVerifier(new FrameParser(), new Ed25519Verifier(1024),
      Set.of("auth", "sync", "lookup", "history", "group_info")::contains);

  @FuzzTest
  void givesAVerdictForAnyBytes(byte[] frame) {
    assertNotNull(verifier.check(frame));
  }
}
