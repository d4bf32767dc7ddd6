package org.esmp.plugin.storage.postgres;

import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;

/**
 * A warning logged at most once a minute, saying how many like it were left out since: for
 * failures that may repeat on every commit while the database is away.
 */
final class Warnings {

  private static final long INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

  private final Logger log;
  private long lastLogged; // guarded by this
  private boolean loggedOnce; // guarded by this
  private int leftOut; // guarded by this

  Warnings(Logger log) {
    this.log = log;
  }

  /**
   * Logs {@code format} with {@code detail} as text (a failure's message, no stack trace), unless
   * one was logged within the minute.
   */
  synchronized void warn(String format, Object detail) {
    long now = System.nanoTime();
    if (loggedOnce && now - lastLogged < INTERVAL_NANOS) {
      leftOut++;
      return;
    }
    String text = detail + (leftOut > 0 ? " (and " + leftOut + " more in the last minute)" : "");
    log.warn(format, text);
    lastLogged = now;
    loggedOnce = true;
    leftOut = 0;
  }
}
