package org.esmp.server.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** Waiting for a condition with a deadline, instead of sleeping a guessed time. */
public final class Await {

  private static final long POLL_MILLIS = 50;

  private Await() {}

  /**
   * Calls {@code probe} until what it returns satisfies {@code done}, and returns that; fails after
   * {@code timeout}, saying {@code what} was awaited, the last value and {@code context} (e.g. logs).
   */
  public static <T> T until(String what, Duration timeout, Callable<T> probe, Predicate<T> done,
      Supplier<String> context) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      T last = probe.call();
      if (done.test(last)) {
        return last;
      }
      if (System.nanoTime() > deadline) {
        String shown = String.valueOf(last);
        return fail("not within " + timeout.toSeconds() + " s: " + what + "; last seen: "
            + (shown.length() > 2000 ? shown.substring(0, 2000) + "..." : shown) + context.get());
      }
      Thread.sleep(POLL_MILLIS);
    }
  }

  /** Waits until {@code condition} holds; fails after {@code timeout}, naming {@code what} and {@code context}. */
  public static void until(String what, Duration timeout, Callable<Boolean> condition, Supplier<String> context)
      throws Exception {
    until(what, timeout, condition, Boolean::booleanValue, context);
  }
}
