package org.esmp.server.dispatch;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * At most one log line per distinct failure per second, so that a failure that hits every message
 * (a broken plugin, a failed storage) does not flood the log with a stack trace per message. The
 * first line of a failure carries its stack trace; a repeat after a second says how many were not
 * logged meanwhile. Thread-safe.
 */
final class LogLimiter {

  private static final long PERIOD_NANOS = TimeUnit.SECONDS.toNanos(1);
  /** Bounds memory when failures carry ever new text: the map restarts when full. */
  private static final int MAX_KEYS = 1024;

  private final Logger log;
  private final ConcurrentHashMap<String, Window> windows = new ConcurrentHashMap<>();

  private static final class Window {
    long startedNanos;
    final AtomicLong suppressed = new AtomicLong();

    Window(long startedNanos) {
      this.startedNanos = startedNanos;
    }
  }

  LogLimiter(Logger log) {
    this.log = log;
  }

  /**
   * Logs {@code line} at ERROR (WARN if not {@code error}), unless a line with the same
   * {@code key} was logged in the last second.
   *
   * @param key what makes two failures the same, e.g. the message type and the cause's text
   */
  void log(boolean error, String key, String line, Throwable failure) {
    long now = System.nanoTime();
    if (windows.size() >= MAX_KEYS) {
      windows.clear();
    }
    Window window = windows.putIfAbsent(key, new Window(now));
    if (window == null) {
      write(error, line, failure);
      return;
    }
    synchronized (window) {
      if (now - window.startedNanos < PERIOD_NANOS) {
        window.suppressed.incrementAndGet();
        return;
      }
      window.startedNanos = now;
    }
    write(error, line + " (again; " + window.suppressed.getAndSet(0) + " more since, not logged)", null);
  }

  private void write(boolean error, String line, Throwable failure) {
    if (error) {
      log.error(line, failure);
    } else {
      log.warn(line, failure);
    }
  }
}
