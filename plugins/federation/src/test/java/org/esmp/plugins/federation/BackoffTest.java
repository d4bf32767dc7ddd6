package org.esmp.plugins.federation;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BackoffTest {

  @Test
  void doublesFromTheFirstStepWithJitterInTheUpperHalfAndNeverPassesTheCap() {
    Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(300), new Random(7));
    long step = 1000;
    for (int attempt = 0; attempt < 30; attempt++) {
      long wait = backoff.nextMillis();
      long expected = Math.min(step, 300_000);
      assertTrue(wait >= expected / 2 && wait <= expected, "attempt " + attempt + ": " + wait + " for a step of " + expected);
      step = Math.min(step * 2, 1L << 40);
    }
  }

  @Test
  void startsOverAfterASuccess() {
    Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(300), new Random(7));
    for (int i = 0; i < 10; i++) {
      backoff.nextMillis();
    }
    backoff.reset();
    assertTrue(backoff.nextMillis() <= 1000);
  }

  @Test
  void aCapBelowTheFirstStepIsTheCap() {
    Backoff backoff = new Backoff(Duration.ofMillis(200));
    for (int i = 0; i < 5; i++) {
      long wait = backoff.nextMillis();
      assertTrue(wait >= 100 && wait <= 200, Long.toString(wait));
    }
  }

  @Test
  void rateLimitedWaitsAtLeastWhatThePeerAsked() {
    Backoff backoff = new Backoff(Duration.ofMillis(200));
    for (int i = 0; i < 100; i++) {
      long wait = backoff.rateLimitedMillis(5_000);
      assertTrue(wait >= 5_000 && wait <= 5_500, Long.toString(wait));
    }
  }
}
