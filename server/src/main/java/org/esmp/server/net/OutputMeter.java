package org.esmp.server.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import org.esmp.server.limits.OutputBudget;

/**
 * Counts one connection's queued output in the server's {@link OutputBudget}: each frame from when
 * it is written to the pipeline until it has left for the socket (or was dropped with the
 * connection). First in the pipeline, so it sees every write last, after flush batching.
 * Every method runs on the connection's event loop.
 */
final class OutputMeter extends ChannelOutboundHandlerAdapter {

  private final OutputBudget budget;
  private long queued;

  OutputMeter(OutputBudget budget) {
    this.budget = budget;
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
  }

  private void add(long delta) {
    long before = queued;
    queued += delta;
    budget.queued(before, queued);
  }
}
