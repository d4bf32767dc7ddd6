package org.esmp.server.net;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import org.esmp.api.ErrorCode;
import org.esmp.api.json.JsonNull;
import org.esmp.api.json.JsonObject;
import org.esmp.json.JsonWriter;

/**
 * The whole pipeline of a connection over a connection limit: it gets one {@code rate_limited}
 * error instead of {@code hello}, and is closed once that is written (ESMP/1 section 3). Nothing it
 * sends is read.
 */
final class RefusedConnectionHandler extends ChannelInboundHandlerAdapter {

  /**
   * The wait suggested before connecting again. A slot frees whenever some connection closes, which
   * the server cannot foresee; a few seconds keeps refused clients from reconnecting in a tight loop.
   */
  static final long RETRY_AFTER_MS = 5_000;

  private final String message;

  RefusedConnectionHandler(String message) {
    this.message = message;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    JsonObject error = JsonObject.builder()
        .put("type", "error")
        .put("re", JsonNull.INSTANCE)
        .put("code", ErrorCode.RATE_LIMITED.wire())
        .put("retry_after_ms", RETRY_AFTER_MS)
        .put("message", message)
        .build();
    sendAndClose(ctx, error);
  }

  /** Writes {@code error} as the connection's only line, then closes it once written. */
  static void sendAndClose(ChannelHandlerContext ctx, JsonObject error) {
    ctx.writeAndFlush(Unpooled.wrappedBuffer(JsonWriter.write(error), new byte[] {'\n'}))
        .addListener(ChannelFutureListener.CLOSE);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ReferenceCountUtil.release(msg);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close(); // e.g. reset by the peer before the error was written
  }
}
