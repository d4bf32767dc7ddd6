package org.esmp.server.net;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.timeout.IdleStateHandler;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.security.SecureRandom;
import java.util.concurrent.TimeUnit;
import org.esmp.api.ErrorCode;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.dispatch.Dispatcher;
import org.esmp.server.dispatch.Workers;
import org.esmp.server.limits.IpKeys;
import org.esmp.server.limits.MemoryBudget;
import org.esmp.server.limits.TokenBuckets;
import org.esmp.server.metrics.ServerMetrics;
import org.esmp.server.session.ConnectionSession;
import org.esmp.server.session.OutputMeter;
import org.esmp.server.tls.ServerTls;
import org.esmp.server.verify.FrameVerifier;

/**
 * Builds each connection's pipeline: connection limits, TLS or plaintext ({@link TlsDetector}), output metering, flush batching, idle pings,
 * protocol logic (with the connection's deadlines). A connection over a limit gets only {@link RefusedConnectionHandler}.
 * Holds what all connections share: the IP rate limits and the input and output budgets.
 */
final class ServerInitializer extends ChannelInitializer<SocketChannel> {

  private final ServerConfig config;
  private final FrameVerifier verifier;
  private final Dispatcher dispatcher;
  private final Workers workers;
  private final ConnectionLimits limits;
  /** Null when the port is plaintext only. */
  private final ServerTls tls;
  private final Hello hello;
  private final SecureRandom random = new SecureRandom();
  private final TokenBuckets<InetAddress> ipRates;
  private final MemoryBudget input;
  private final MemoryBudget output;
  private final ServerMetrics metrics;

  ServerInitializer(ServerConfig config, ServerTls tls, String serverKey, FrameVerifier verifier,
      Dispatcher dispatcher, Workers workers, ConnectionLimits limits, ServerMetrics metrics) {
    this.config = config;
    this.hello = new Hello(config, serverKey);
    this.tls = tls;
    this.verifier = verifier;
    this.dispatcher = dispatcher;
    this.workers = workers;
    this.limits = limits;
    this.ipRates = TokenBuckets.ofServer(
        TokenBuckets.Rate.perSecond(config.ipFramesPerSecond(), config.ipFramesBurst()),
        TokenBuckets.Rate.perSecond(config.ipBytesPerSecond(), config.ipBytesBurst()));
    this.input = MemoryBudget.input(config.inputTotalBytes());
    this.output = MemoryBudget.output(config.outputConnectionBytes(), config.outputTotalBytes());
    this.metrics = metrics;
    metrics.gauge("esmp.connections.open", "Connections open now (refused ones not counted)", limits::open);
    // What is delivered to connections and not yet written to their sockets: the server's queue.
    metrics.gauge("esmp.output.queued.bytes", "Bytes queued to clients, not yet written to their sockets",
        output::used);
    metrics.gauge("esmp.input.held.bytes", "Bytes read from clients and not yet answered", input::used);
  }

  @Override
  protected void initChannel(SocketChannel channel) {
    ChannelPipeline pipeline = channel.pipeline();
    if (channel.remoteAddress() == null) {
      channel.close(); // reset before it was set up
      return;
    }
    // One IPv4 address or one IPv6 /64, as for the rate limits: an IPv6 client has a whole /64 to
    // connect from.
    InetAddress ip = IpKeys.of(channel.remoteAddress());
    ConnectionLimits.Refusal refusal = limits.acquire(ip);
    if (refusal != null) {
      metrics.rateLimited(refusal == ConnectionLimits.Refusal.TOTAL
          ? ServerMetrics.RateLimit.CONNECTIONS : ServerMetrics.RateLimit.CONNECTIONS_PER_IP);
      metrics.error(ErrorCode.RATE_LIMITED.wire());
      channel.config().setAutoRead(false);
      pipeline.addLast("refused", new RefusedConnectionHandler(switch (refusal) {
        case TOTAL -> "the server has its maximum of " + limits.maxTotal() + " connections; try again later";
        case PER_IP -> "too many connections from " + ip.getHostAddress() + (ip instanceof Inet6Address ? "/64" : "")
            + " (at most " + limits.maxPerIp() + "); try again later";
      }));
      return;
    }
    metrics.connectionAccepted();
    channel.closeFuture().addListener(closed -> {
      limits.release(ip);
      metrics.connectionClosed();
    });
    if (tls != null) {
      pipeline.addLast("detect", new TlsDetector(tls, config, metrics));
    }
    OutputMeter meter = new OutputMeter(channel, output, config.outputGrace(), metrics::outputClosed);
    pipeline.addLast("meter", meter);
    pipeline.addLast("flush", new FlushConsolidationHandler(64, true));
    long ping = config.pingInterval().toMillis();
    if (ping > 0) {
      pipeline.addLast("idle", new IdleStateHandler(0, 0, ping, TimeUnit.MILLISECONDS));
    }
    ConnectionSession session = new ConnectionSession(channel, ip, random, meter);
    pipeline.addLast("esmp", new FrameHandler(config, verifier, dispatcher, workers, ipRates, input, session, hello, metrics));
  }
}
