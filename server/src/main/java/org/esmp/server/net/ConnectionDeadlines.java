package org.esmp.server.net;

import io.netty.channel.Channel;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.esmp.server.config.ServerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a connection that holds the server's resources without using them (ESMP/1 section 3):
 * one that sends no complete frame within {@code first_message_seconds} of {@code hello}; one whose
 * started line does not complete within {@code line_seconds} (a client dribbling bytes); one that has
 * not synced and sends no frame for {@code idle_unsynced_seconds}. It closes silently: the spec
 * names no error for these.
 *
 * <p>{@link FrameHandler} tells it what each read brought ({@link #read}), from the lines it split:
 * the bytes are looked at once. While the server itself has stopped reading the connection (too
 * many of its frames in flight), the clock of the line and idle deadlines is stopped: the wait is
 * the server's.
 *
 * <p>Every method runs on the connection's event loop; one timer at a time is pending, for the
 * nearest deadline.
 */
final class ConnectionDeadlines {

  private static final Logger log = LoggerFactory.getLogger(ConnectionDeadlines.class);

  private static final long NONE = Long.MAX_VALUE;

  private final long firstMessageNanos;
  private final long lineNanos;
  private final long idleUnsyncedNanos;

  private final Channel channel;
  /** Whether the server stopped reading the connection, busy with its frames. */
  private final BooleanSupplier serverBehind;
  /** Whether the connection synced: it waits for pushes, it is not idle. */
  private final BooleanSupplier synced;
  private boolean sentFrame;
  /** When the connection opened or its last complete frame arrived. */
  private long lastFrameAt;
  /** When the first byte of the current line arrived; {@link #NONE} when no line is started. */
  private long lineStartedAt = NONE;
  /** Whether the current line has a byte other than '\r' (an empty line is no frame). */
  private boolean lineHasContent;
  private ScheduledFuture<?> timer;
  private long timerAt = NONE;

  ConnectionDeadlines(ServerConfig config, Channel channel, BooleanSupplier serverBehind, BooleanSupplier synced) {
    this.firstMessageNanos = config.firstMessageTimeout().toNanos();
    this.lineNanos = config.lineTimeout().toNanos();
    this.idleUnsyncedNanos = config.idleUnsyncedTimeout().toNanos();
    this.channel = channel;
    this.serverBehind = serverBehind;
    this.synced = synced;
  }

  /** The connection opened: the clocks start. */
  void start() {
    lastFrameAt = System.nanoTime();
    reschedule();
  }

  /**
   * What one read brought.
   *
   * @param frameEnded whether a frame (a line with content) was completed
   * @param lineEnded whether any line, empty or not, was completed
   * @param lineStarted whether a line is started and not complete after the read
   */
  void read(boolean frameEnded, boolean lineEnded, boolean lineStarted) {
    long now = System.nanoTime();
    if (frameEnded) {
      sentFrame = true;
      lastFrameAt = now;
    }
    if (!lineStarted) {
      lineStartedAt = NONE;
    } else if (lineEnded || lineStartedAt == NONE) {
      lineStartedAt = now; // a new line
    }
    reschedule();
  }

  /** The connection closed: no more timers. */
  void stop() {
    cancelTimer();
  }

  /** The nearest deadline that applies now, or {@link #NONE}. */
  private long nextDeadline() {
    long next = NONE;
    if (!sentFrame) {
      next = Math.min(next, lastFrameAt + firstMessageNanos);
    }
    if (lineStartedAt != NONE) {
      next = Math.min(next, lineStartedAt + lineNanos);
    }
    if (!synced.getAsBoolean()) {
      next = Math.min(next, lastFrameAt + idleUnsyncedNanos);
    }
    return next;
  }

  /** Makes sure a timer is pending no later than the nearest deadline. */
  private void reschedule() {
    long next = nextDeadline();
    if (next == NONE || (timer != null && timerAt <= next)) {
      return; // a timer that fires early finds the deadline moved and schedules the next one
    }
    cancelTimer();
    timerAt = next;
    timer = channel.eventLoop().schedule(this::onTimer, Math.max(0, next - System.nanoTime()), TimeUnit.NANOSECONDS);
  }

  private void onTimer() {
    timer = null;
    timerAt = NONE;
    if (!channel.isActive()) {
      return;
    }
    long now = System.nanoTime();
    if (serverBehind.getAsBoolean()) {
      // The server is not reading, busy with this connection's frames: whatever the client sent
      // waits in the socket, not its fault. (Held back by the input budget, the clock runs: a
      // started line is what it holds.)
      lastFrameAt = now;
      if (lineStartedAt != NONE) {
        lineStartedAt = now;
      }
    }
    String expired = null;
    if (!sentFrame && now - lastFrameAt >= firstMessageNanos) {
      expired = "no frame within first_message_seconds of hello";
    } else if (lineStartedAt != NONE && now - lineStartedAt >= lineNanos) {
      expired = "a line not completed within line_seconds";
    } else if (!synced.getAsBoolean() && now - lastFrameAt >= idleUnsyncedNanos) {
      expired = "not synced and idle for idle_unsynced_seconds";
    }
    if (expired != null) {
      log.debug("Closing connection {}: {}", channel.remoteAddress(), expired);
      channel.close();
    } else {
      reschedule();
    }
  }

  private void cancelTimer() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
      timerAt = NONE;
    }
  }
}
