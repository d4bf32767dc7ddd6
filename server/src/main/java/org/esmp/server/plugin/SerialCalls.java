package org.esmp.server.plugin;

import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls to one extension made one at a time, in the order they were queued, on its plugin's
 * threads ({@link PluginCalls}): how message listeners are called. Each call is bounded by the
 * plugin call timeout; a call that fails or times out is logged and skipped, and the next one
 * starts. At most {@code capacity} calls wait: past that the oldest is dropped, with a warning
 * now and then. Never blocks the caller.
 */
public final class SerialCalls {

  private static final Logger log = LoggerFactory.getLogger(SerialCalls.class);
  private static final long DROP_LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final PluginCalls calls;
  private final String what;
  private final int capacity;
  private final Queue<Call> waiting = new ArrayDeque<>();
  private boolean running; // guarded by this
  private long dropped; // guarded by this
  private long droppedLogged; // guarded by this: dropped as of the last log line
  private long droppedLoggedAt = System.nanoTime() - DROP_LOG_INTERVAL_NANOS; // guarded by this

  /** One queued call, with what to name in a log line when it fails. */
  private record Call(PluginCalls.ThrowingRunnable method, String subject) {}

  /**
   * @param what the method, for log lines: {@code "message listener"}
   * @param capacity most calls waiting
   */
  SerialCalls(PluginCalls calls, String what, int capacity) {
    this.calls = calls;
    this.what = what;
    this.capacity = capacity;
  }

  /**
   * Queues one call.
   *
   * @param subject what the call is about, for log lines (a message id)
   */
  public void submit(PluginCalls.ThrowingRunnable method, String subject) {
    long toLog = 0;
    long totalDropped = 0;
    boolean run;
    synchronized (this) {
      if (waiting.size() >= capacity) {
        waiting.poll();
        dropped++;
        calls.meters().listenerDropped();
        long now = System.nanoTime();
        if (now - droppedLoggedAt >= DROP_LOG_INTERVAL_NANOS) {
          toLog = dropped - droppedLogged;
          totalDropped = dropped;
          droppedLogged = dropped;
          droppedLoggedAt = now;
        }
      }
      waiting.add(new Call(method, subject));
      run = !running;
      running = true;
    }
    if (toLog > 0) {
      log.warn("Plugin {}: {} too slow: dropped the oldest of {} waiting calls {} times since the last such line "
          + "({} in all)", calls.pluginId(), what, capacity, toLog, totalDropped);
    }
    if (run) {
      runNext();
    }
  }

  /** How many calls were dropped, in all: the listener could not keep up. */
  public synchronized long dropped() {
    return dropped;
  }

  /** Runs waiting calls until none is left; a call that completes at once does not recurse. */
  private void runNext() {
    while (true) {
      Call next;
      synchronized (this) {
        next = waiting.poll();
        if (next == null) {
          running = false;
          return;
        }
      }
      CompletableFuture<Boolean> result = calls.run(what, next.method()).result();
      CompletableFuture<Void> logged = result.handle((ok, failure) -> {
        if (failure != null) {
          log.warn("Plugin {}: {} failed on {}; skipped", calls.pluginId(), what, next.subject(), failure);
        }
        return null;
      });
      if (!logged.isDone()) {
        logged.thenRun(this::runNext);
        return;
      }
    }
  }
}
