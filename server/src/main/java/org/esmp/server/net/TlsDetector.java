package org.esmp.server.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslHandler;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.esmp.api.ErrorCode;
import org.esmp.api.json.JsonNull;
import org.esmp.api.json.JsonObject;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.metrics.ServerMetrics;
import org.esmp.server.tls.ServerTls;

/**
 * First in the pipeline of a connection to a server with TLS: tells TLS from plaintext by the
 * first byte (a TLS record of a handshake starts with 22, a frame never does), then puts an {@link
 * SslHandler} in its own place, or steps aside for plaintext. A plaintext client waits for {@code
 * hello} before it speaks, so a connection that sends nothing for {@code tls_detect_millis} is
 * taken to be one. When TLS is required, a plaintext connection gets one {@code forbidden}
 * {@code error} saying so and is closed.
 *
 * <p>Either way {@link FrameHandler} is told when it may send {@code hello}: by {@link #PLAINTEXT},
 * or by the TLS handshake's completion event.
 */
final class TlsDetector extends ByteToMessageDecoder {

  /** The user event that tells {@link FrameHandler} a plaintext connection may start. */
  static final Object PLAINTEXT = new Object() {
    @Override
    public String toString() {
      return "PLAINTEXT";
    }
  };

  /** TLS ContentType handshake (RFC 8446 §5.1): the first byte of a ClientHello record. */
  private static final int HANDSHAKE_RECORD = 22;

  private final ServerTls tls;
  private final ServerConfig config;
  private final ServerMetrics metrics;
  private ScheduledFuture<?> silence;
  private boolean decided;

  TlsDetector(ServerTls tls, ServerConfig config, ServerMetrics metrics) {
    this.tls = tls;
    this.config = config;
    this.metrics = metrics;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    silence = ctx.executor().schedule(() -> {
      if (!decided && ctx.channel().isActive()) {
        plaintext(ctx);
      }
    }, config.tls().detectTimeout().toMillis(), TimeUnit.MILLISECONDS);
    super.channelActive(ctx);
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (decided) {
      in.skipBytes(in.readableBytes()); // a refused plaintext connection, closing
      return;
    }
    if (!in.isReadable()) {
      return;
    }
    if (in.getUnsignedByte(in.readerIndex()) == HANDSHAKE_RECORD) {
      tls(ctx);
    } else {
      plaintext(ctx);
    }
  }

  private void tls(ChannelHandlerContext ctx) {
    decided = true;
    silence.cancel(false);
    SslHandler handler = tls.newHandler(ctx.alloc());
    // A handshake that never completes holds a connection as a silent client would.
    handler.setHandshakeTimeoutMillis(config.firstMessageTimeout().toMillis());
    ctx.pipeline().addAfter(ctx.name(), "tls", handler);
    ctx.pipeline().remove(this); // what was read goes on to the SslHandler
  }

  private void plaintext(ChannelHandlerContext ctx) {
    decided = true;
    silence.cancel(false);
    if (config.tls().required()) {
      metrics.transport(ServerMetrics.Transport.PLAINTEXT_REFUSED);
      metrics.error(ErrorCode.FORBIDDEN.wire());
      JsonObject error = JsonObject.builder()
          .put("type", "error")
          .put("re", JsonNull.INSTANCE)
          .put("code", ErrorCode.FORBIDDEN.wire())
          .put("message", "this server requires TLS: connect with TLS on the same port (esmp --tls)")
          .build();
      RefusedConnectionHandler.sendAndClose(ctx, error);
      return;
    }
    ctx.fireUserEventTriggered(PLAINTEXT); // hello first, then the bytes read so far
    ctx.pipeline().remove(this);
  }

  @Override
  public void handlerRemoved0(ChannelHandlerContext ctx) {
    if (silence != null) {
      silence.cancel(false);
    }
  }
}
