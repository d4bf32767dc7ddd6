package org.esmp.load.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ErrorTallyTest {

  @Test
  void countsByCodeAndKeepsTheFirstText() {
    ErrorTally tally = new ErrorTally();
    tally.record("rate_limited", "slow down");
    tally.record("rate_limited", "slower");
    tally.record("stale", null);

    assertEquals(Map.of("rate_limited", 2L, "stale", 1L), tally.counts());
    assertEquals("slow down", tally.firstText("rate_limited"));
    assertEquals(3, tally.total());
    assertTrue(tally.rateLimited());
  }

  @Test
  void reportsOnlyWhatCameAfterASnapshot() {
    ErrorTally tally = new ErrorTally();
    tally.record("stale", null);
    tally.recordClosed("first");
    ErrorTally.Snapshot before = tally.snapshot();
    tally.record("stale", null);
    tally.record("forbidden", null);
    tally.recordClosed("second");

    assertEquals(Map.of("stale", 1L, "forbidden", 1L), tally.countsSince(before));
    assertEquals(List.of("second"), tally.closedSince(before));
  }
}
