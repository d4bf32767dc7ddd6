package org.esmp.load.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.stream.IntStream;
import org.esmp.load.net.SignedFrame;
import org.junit.jupiter.api.Test;

class PresignTest {

  @Test
  void sharesATotalOverPartsWithNothingLost() {
    assertEquals(List.of(3, 3, 2, 2), IntStream.range(0, 4).map(i -> Presign.share(10, 4, i)).boxed().toList());
    assertEquals(20_000, IntStream.range(0, 7).map(i -> Presign.share(20_000, 7, i)).sum());
  }

  @Test
  void keepsTheOrderOfFramesSignedInParallel() {
    List<SignedFrame> frames = Presign.frames(1_000, k -> new SignedFrame(Integer.toString(k), new byte[0]));

    for (int k = 0; k < 1_000; k++) {
      assertEquals(Integer.toString(k), frames.get(k).id());
    }
  }
}
