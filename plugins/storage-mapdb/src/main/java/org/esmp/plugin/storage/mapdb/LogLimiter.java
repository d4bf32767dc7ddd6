package org.esmp.plugin.storage.mapdb;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * At most one log line per distinct failure per second, so that a failure repeated for every batch
 * or message does not flood the log. A failure is distinct by its text; its stack trace is logged
 * the first time only. Thread-safe.
 */
final class LogLimiter {

  private static final long PERIOD_NANOS = TimeUnit.SECONDS.toNanos(1);
  /** Bounds memory when failures carry ever new text (ids, sizes): the map restarts when full. */
  private static final int MAX_KEYS = 1024;

  private final Logger log;
  private final ConcurrentHashMap<String, Window> windows = new ConcurrentHashMap<>();

  private static final class Window {
    volatile long startedNanos;
    final AtomicLong suppressed = new AtomicLong();

    Window(long startedNanos) {
      this.startedNanos = startedNanos;
    }
  }

  LogLimiter(Logger log) {
    this.log = log;
  }

  /** Logs {@code line} at ERROR unless the same line was logged in the last second. */
  void error(String line, Throwable failure) {
    log(true, line, failure);
  }

  /** Logs {@code line} at WARN unless the same line was logged in the last second. */
  void warn(String line, Throwable failure) {
    log(false, line, failure);
  }

  private void log(boolean error, String line, Throwable failure) {
    long now = System.nanoTime();
    if (windows.size() >= MAX_KEYS) {
      windows.clear();
    }
    Window created = new Window(now);
    Window window = windows.putIfAbsent(line, created);
    if (window == null) {
      if (error) {
        log.error(line, failure);
      } else {
        log.warn(line, failure);
      }
      return;
    }
    synchronized (window) {
      if (now - window.startedNanos < PERIOD_NANOS) {
        window.suppressed.incrementAndGet();
        return;
      }
      window.startedNanos = now;
    }
    long suppressed = window.suppressed.getAndSet(0);
    String again = line + " (again; " + suppressed + " more since, not logged)";
    if (error) {
      log.error(again);
    } else {
      log.warn(again);
    }
  }
}
