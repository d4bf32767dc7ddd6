package org.esmp.server.net;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.timeout.IdleStateHandler;
import java.net.InetAddress;
import java.security.SecureRandom;
import java.util.concurrent.TimeUnit;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.dispatch.Dispatcher;
import org.esmp.server.dispatch.Workers;
import org.esmp.server.limits.TokenBuckets;
import org.esmp.server.verify.FrameVerifier;

/**
 * Builds each connection's pipeline: connection limits, deadlines, flush batching, idle pings, line
 * framing, protocol logic. A connection over a limit gets only {@link RefusedConnectionHandler}.
 */
final class ServerInitializer extends ChannelInitializer<SocketChannel> {

  private final ServerConfig config;
  private final FrameVerifier verifier;
  private final Dispatcher dispatcher;
  private final Workers workers;
  private final ConnectionLimits limits;
  private final SecureRandom random = new SecureRandom();
  private final TokenBuckets<InetAddress> ipRates;

  ServerInitializer(ServerConfig config, FrameVerifier verifier, Dispatcher dispatcher, Workers workers,
      ConnectionLimits limits) {
    this.config = config;
    this.verifier = verifier;
    this.dispatcher = dispatcher;
    this.workers = workers;
    this.limits = limits;
    this.ipRates = TokenBuckets.ofServer(
        TokenBuckets.Rate.perSecond(config.ipFramesPerSecond(), config.ipFramesBurst()),
        TokenBuckets.Rate.perSecond(config.ipBytesPerSecond(), config.ipBytesBurst()));
  }

  @Override
  protected void initChannel(SocketChannel channel) {
    ChannelPipeline pipeline = channel.pipeline();
    if (channel.remoteAddress() == null) {
      channel.close(); // reset before it was set up
      return;
    }
    InetAddress ip = channel.remoteAddress().getAddress();
    ConnectionLimits.Refusal refusal = limits.acquire(ip);
    if (refusal != null) {
      channel.config().setAutoRead(false);
      pipeline.addLast("refused", new RefusedConnectionHandler(switch (refusal) {
        case TOTAL -> "the server has its maximum of " + limits.maxTotal() + " connections; try again later";
        case PER_IP -> "too many connections from " + ip.getHostAddress() + " (at most " + limits.maxPerIp()
            + "); try again later";
      }));
      return;
    }
    channel.closeFuture().addListener(closed -> limits.release(ip));
    pipeline.addLast("deadlines", new ConnectionDeadlines(config));
    pipeline.addLast("flush", new FlushConsolidationHandler(64, true));
    long ping = config.pingInterval().toMillis();
    if (ping > 0) {
      pipeline.addLast("idle", new IdleStateHandler(0, 0, ping, TimeUnit.MILLISECONDS));
    }
    // One byte of slack: see FrameHandler.channelRead. Fails fast: refuses a long line as soon as
    // it is too long, without buffering the rest of it.
    pipeline.addLast("frames", new LineBasedFrameDecoder(config.maxFrame() + 1, true, true));
    pipeline.addLast("esmp", new FrameHandler(config, verifier, dispatcher, workers, random, ipRates));
  }
}
