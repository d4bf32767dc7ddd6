package org.esmp.load.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class PacingTest {

  @Test
  void spacesFramesEvenlyFromTheStart() {
    Pacing pacing = Pacing.rate(1_000, 500); // one every 2 ms

    assertEquals(1_000, pacing.due(0));
    assertEquals(1_000 + 2_000_000, pacing.due(1));
    assertEquals(1_000 + 9_999L * 2_000_000, pacing.due(9_999));
  }

  @Test
  void aRateThatDoesNotDivideASecondDoesNotDrift() {
    Pacing pacing = Pacing.rate(0, 3); // 333,333,333.3 ns apart

    assertEquals(1_000_000_000, pacing.due(3), 1);
    assertEquals(100_000_000_000L, pacing.due(300), 1);
  }

  @Test
  void unpacedHasNoSchedule() {
    assertFalse(Pacing.unpaced().paced());
    assertThrows(IllegalArgumentException.class, () -> Pacing.rate(0, 0));
  }
}
