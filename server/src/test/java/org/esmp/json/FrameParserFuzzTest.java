package org.esmp.json;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Coverage-guided fuzzing of {@link FrameParser}: any bytes give a frame object or a {@link
 * BadJsonException}; anything else thrown is a finding. Under plain JUnit this runs only the inputs
 * in {@code FrameParserFuzzTestInputs/}; the {@code fuzz} surefire execution fuzzes it (README).
 */
class FrameParserFuzzTest {

  private final FrameParser parser = new FrameParser();

  @FuzzTest
  void parsesOrRefusesAnyBytes(byte[] frame) {
    try {
      parser.parse(frame, 0, frame.length);
    } catch (BadJsonException expected) {
      // refused: the one allowed failure
    }
  }
}
