package org.esmp.server.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.session.ConnectionSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a connection that holds the server's resources without using them (ESMP/1 section 3):
 * one that sends no complete frame within {@code first_message_seconds} of {@code hello}; one whose
 * started line does not complete within {@code line_seconds} (a client dribbling bytes); one that has
 * not synced and sends no frame for {@code idle_unsynced_seconds}. It closes silently: the spec
 * names no error for these.
 *
 * <p>First in the pipeline, it watches the raw bytes: a frame is a line with a byte other than
 * {@code '\r'}, a started line the bytes since the last {@code '\n'}. Whether the connection synced
 * it reads from {@link ConnectionSession#synced}, which {@code sync} sets. While the server itself
 * has stopped reading the connection (too many of its frames in flight), the clock of the line and
 * idle deadlines is stopped: the wait is the server's.
 *
 * <p>Every method runs on the connection's event loop; one timer at a time is pending, for the
 * nearest deadline.
 */
final class ConnectionDeadlines extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(ConnectionDeadlines.class);

  private static final long NONE = Long.MAX_VALUE;

  private final long firstMessageNanos;
  private final long lineNanos;
  private final long idleUnsyncedNanos;

  private ChannelHandlerContext ctx;
  private boolean sentFrame;
  /** When the connection opened or its last complete frame arrived. */
  private long lastFrameAt;
  /** When the first byte of the current line arrived; {@link #NONE} when no line is started. */
  private long lineStartedAt = NONE;
  /** Whether the current line has a byte other than '\r' (an empty line is no frame). */
  private boolean lineHasContent;
  private ScheduledFuture<?> timer;
  private long timerAt = NONE;

  ConnectionDeadlines(ServerConfig config) {
    this.firstMessageNanos = config.firstMessageTimeout().toNanos();
    this.lineNanos = config.lineTimeout().toNanos();
    this.idleUnsyncedNanos = config.idleUnsyncedTimeout().toNanos();
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    lastFrameAt = System.nanoTime();
    reschedule();
    ctx.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof ByteBuf bytes && bytes.isReadable()) {
      long now = System.nanoTime();
      bytes.forEachByte(b -> {
        if (b == '\n') {
          if (lineHasContent) {
            sentFrame = true;
            lastFrameAt = now;
          }
          lineStartedAt = NONE;
          lineHasContent = false;
        } else {
          if (lineStartedAt == NONE) {
            lineStartedAt = now;
          }
          lineHasContent |= b != '\r';
        }
        return true;
      });
      reschedule();
    }
    ctx.fireChannelRead(msg);
  }

  private boolean synced() {
    return ConnectionSession.synced(ctx.channel());
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    cancelTimer();
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
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
    if (!synced()) {
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
    timer = ctx.executor().schedule(this::onTimer, Math.max(0, next - System.nanoTime()), TimeUnit.NANOSECONDS);
  }

  private void onTimer() {
    timer = null;
    timerAt = NONE;
    if (!ctx.channel().isActive()) {
      return;
    }
    long now = System.nanoTime();
    if (FrameHandler.behind(ctx.channel())) {
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
    } else if (!synced() && now - lastFrameAt >= idleUnsyncedNanos) {
      expired = "not synced and idle for idle_unsynced_seconds";
    }
    if (expired != null) {
      log.debug("Closing connection {}: {}", ctx.channel().remoteAddress(), expired);
      ctx.close();
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
