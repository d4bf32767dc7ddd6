package org.esmp.server.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.esmp.server.limits.MemoryBudget;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts one connection's queued output in the server's output {@link MemoryBudget}, each frame from when
 * it is written to the pipeline until it has left for the socket (or was dropped with the
 * connection), and closes the connection once it has stayed over its share for the grace: whatever
 * queued it (answers, pushes), and whether or not anything more is being sent to it. Its client
 * syncs again from its cursor.
 *
 * <p>First in the pipeline, so it sees every write last, after flush batching. While anything is
 * queued, it looks every {@value #CHECK_MILLIS} ms. Every method runs on the connection's event loop.
 */
final class OutputMeter extends ChannelOutboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(OutputMeter.class);
  static final long CHECK_MILLIS = 100;
  private static final long NOT_OVER = -1;

  private final MemoryBudget budget;
  private final long graceNanos;
  private ChannelHandlerContext ctx;
  private long queued;
  private boolean checking;
  private long overSince = NOT_OVER;

  OutputMeter(MemoryBudget budget, Duration grace) {
    this.budget = budget;
    this.graceNanos = grace.toNanos();
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (!(msg instanceof ByteBuf bytes) || !bytes.isReadable()) {
      ctx.write(msg, promise);
      return;
    }
    long size = bytes.readableBytes();
    add(size);
    ChannelPromise counted = promise.unvoid();
    counted.addListener(done -> add(-size));
    ctx.write(msg, counted);
    if (!checking) {
      checking = true;
      ctx.executor().schedule(this::check, CHECK_MILLIS, TimeUnit.MILLISECONDS);
    }
  }

  private void add(long delta) {
    long before = queued;
    queued += delta;
    budget.change(before, queued);
  }

  /** Closes the connection if it has been over its share for the grace; looks again while anything is queued. */
  private void check() {
    if (!ctx.channel().isActive() || queued == 0) {
      checking = false;
      overSince = NOT_OVER;
      return;
    }
    ChannelOutboundBuffer outbound = ctx.channel().unsafe().outboundBuffer();
    long pending = outbound == null ? queued : outbound.totalPendingWriteBytes();
    long now = System.nanoTime();
    if (!budget.over(pending)) {
      overSince = NOT_OVER;
    } else if (overSince == NOT_OVER) {
      overSince = now;
    } else if (now - overSince >= graceNanos) {
      log.debug("Connection {} stayed over its output share for the grace ({} bytes waiting, {} for all): closing it",
          ctx.channel().remoteAddress(), pending, budget.used());
      checking = false;
      ctx.close();
      return;
    }
    ctx.executor().schedule(this::check, CHECK_MILLIS, TimeUnit.MILLISECONDS);
  }
}
