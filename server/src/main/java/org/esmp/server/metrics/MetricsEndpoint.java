package org.esmp.server.metrics;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.esmp.server.config.ServerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The metrics port: a small HTTP/1.1 server, apart from the ESMP port, answering
 *
 * <ul>
 *   <li>{@code GET /metrics}: every meter in the Prometheus text format;
 *   <li>{@code GET /health}: 200 {@code ok} while the process serves HTTP at all (liveness);
 *   <li>{@code GET /ready}: 200 {@code ready} once the storage is open, the plugins started and the
 *       ESMP port listening, and while nothing has failed; else 503 with the reason (readiness).
 * </ul>
 *
 * <p>It runs on an event loop of its own, one thread: a scrape (which reads every gauge) never
 * runs on the ESMP event loops. Requests are small GETs: anything larger than {@value
 * #MAX_REQUEST} bytes is refused, and a connection idle for {@value #IDLE_SECONDS} s is closed.
 * It listens from before the plugins and the storage start, so {@code /ready} says 503 while they
 * do.
 */
public final class MetricsEndpoint implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(MetricsEndpoint.class);

  /** The largest request accepted, headers and body. */
  static final int MAX_REQUEST = 8192;
  /** Seconds a connection may stay silent before it is closed. */
  static final int IDLE_SECONDS = 30;
  /** The Prometheus text exposition format. */
  static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
  private static final String PLAIN_TEXT = "text/plain; charset=utf-8";

  private final EventLoopGroup group;
  private final Channel listener;

  private MetricsEndpoint(EventLoopGroup group, Channel listener) {
    this.group = group;
    this.listener = listener;
  }

  /**
   * Listens on the configured address and port.
   *
   * @throws BindFailedException naming the metrics address when it cannot listen there
   */
  public static MetricsEndpoint start(ServerConfig.Metrics config, ServerMetrics metrics, Readiness readiness)
      throws BindFailedException, InterruptedException {
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("esmp-metrics", true),
        NioIoHandler.newFactory());
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(group)
        .channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel channel) {
            channel.pipeline()
                .addLast(new ReadTimeoutHandler(IDLE_SECONDS, TimeUnit.SECONDS))
                .addLast(new HttpServerCodec())
                .addLast(new HttpObjectAggregator(MAX_REQUEST))
                .addLast(new Handler(metrics, readiness));
          }
        });
    try {
      Channel listener = bootstrap.bind(config.bind(), config.port()).sync().channel();
      MetricsEndpoint endpoint = new MetricsEndpoint(group, listener);
      log.info("Metrics on http://{}:{}/metrics (and /health, /ready)", config.bind(), endpoint.port());
      if (!((InetSocketAddress) listener.localAddress()).getAddress().isLoopbackAddress()) {
        log.warn("The metrics port listens on {}, not loopback: whoever reaches it sees the server's traffic "
            + "counts; firewall it", config.bind());
      }
      return endpoint;
    } catch (Exception e) { // also Netty's sneaky BindException
      group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
      if (e instanceof SocketException) { // BindException, or an address not of this machine
        throw new BindFailedException(config.bind() + ":" + config.port() + ": " + e.getMessage(), e);
      }
      if (e instanceof UnresolvedAddressException) {
        throw new BindFailedException(config.bind() + ":" + config.port() + ": unknown host", e);
      }
      throw e;
    }
  }

  /** The metrics port could not listen (port taken, address not of this machine); names the address. */
  public static final class BindFailedException extends BindException {
    private static final long serialVersionUID = 1L;

    BindFailedException(String message, Throwable cause) {
      super(message);
      initCause(cause);
    }
  }

  /** The port actually bound (differs from the configured one when that was 0). */
  public int port() {
    return ((InetSocketAddress) listener.localAddress()).getPort();
  }

  /** Stops listening and closes every connection. */
  @Override
  public void close() {
    listener.close().awaitUninterruptibly();
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
  }

  /** Answers one request; on the metrics port's event loop. */
  private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final ServerMetrics metrics;
    private final Readiness readiness;

    Handler(ServerMetrics metrics, Readiness readiness) {
      this.metrics = metrics;
      this.readiness = readiness;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      if (!request.decoderResult().isSuccess()) {
        respond(ctx, request, HttpResponseStatus.BAD_REQUEST, PLAIN_TEXT, "bad request\n", false);
        return;
      }
      boolean keepAlive = HttpUtil.isKeepAlive(request);
      HttpMethod method = request.method();
      if (!method.equals(HttpMethod.GET) && !method.equals(HttpMethod.HEAD)) {
        respond(ctx, request, HttpResponseStatus.METHOD_NOT_ALLOWED, PLAIN_TEXT, "only GET and HEAD\n", keepAlive);
        return;
      }
      switch (new QueryStringDecoder(request.uri()).path()) {
        case "/metrics" -> respond(ctx, request, HttpResponseStatus.OK, PROMETHEUS_TEXT, metrics.scrape(), keepAlive);
        case "/health" -> respond(ctx, request, HttpResponseStatus.OK, PLAIN_TEXT, "ok\n", keepAlive);
        case "/ready" -> {
          String notReady = readiness.notReady();
          if (notReady == null) {
            respond(ctx, request, HttpResponseStatus.OK, PLAIN_TEXT, "ready\n", keepAlive);
          } else {
            respond(ctx, request, HttpResponseStatus.SERVICE_UNAVAILABLE, PLAIN_TEXT, "not ready: " + notReady + "\n",
                keepAlive);
          }
        }
        default -> respond(ctx, request, HttpResponseStatus.NOT_FOUND, PLAIN_TEXT,
            "not found: the metrics port serves /metrics, /health and /ready\n", keepAlive);
      }
    }

    private static void respond(ChannelHandlerContext ctx, FullHttpRequest request, HttpResponseStatus status,
        String contentType, String body, boolean keepAlive) {
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      ByteBuf content = request.method().equals(HttpMethod.HEAD) ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(bytes);
      FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
      response.headers()
          .set(HttpHeaderNames.CONTENT_TYPE, contentType)
          .setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length)
          .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
      if (status.equals(HttpResponseStatus.METHOD_NOT_ALLOWED)) {
        response.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
      }
      if (keepAlive) {
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        ctx.writeAndFlush(response);
      } else {
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      log.debug("Metrics connection {}: {}", ctx.channel().remoteAddress(), cause.toString());
      ctx.close(); // a read timeout, a reset, a request too large
    }
  }
}
