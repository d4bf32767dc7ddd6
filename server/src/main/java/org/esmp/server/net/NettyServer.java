package org.esmp.server.net;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.concurrent.TimeUnit;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.dispatch.Dispatcher;
import org.esmp.server.dispatch.Workers;
import org.esmp.server.tls.ServerTls;
import org.esmp.server.metrics.ServerMetrics;
import org.esmp.server.verify.FrameVerifier;

/** Listens on the configured TCP port. Only starts and stops; {@link FrameHandler} holds the logic. */
public final class NettyServer implements AutoCloseable {

  /** The most bytes read from a socket at once. */
  static final int MAX_READ = 16 * 1024;

  private final EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final EventLoopGroup io = new MultiThreadIoEventLoopGroup(NioIoHandler.newFactory());
  private final Channel listener;

  /**
   * Binds and starts accepting connections.
   *
   * @param tls TLS beside plaintext on the port, or null for plaintext only
   * @param serverKey the server's public key, base64, for {@code hello}
   * @throws java.io.IOException (sneakily, from Netty) when the port cannot be bound
   */
  public NettyServer(ServerConfig config, ServerTls tls, String serverKey, FrameVerifier verifier,
      Dispatcher dispatcher, Workers workers, ServerMetrics metrics) throws InterruptedException {
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(boss, io)
        .channel(NioServerSocketChannel.class)
        .option(ChannelOption.SO_BACKLOG, 1024)
        .childOption(ChannelOption.TCP_NODELAY, true)
        // A client may send its frames and half-close; it still gets every answer.
        .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
        // Reads of at most 16 KiB: a connection held back by the input budget is stopped after the
        // read that took it over, so this is what it can take beyond its share.
        .childOption(ChannelOption.RCVBUF_ALLOCATOR, new AdaptiveRecvByteBufAllocator(64, 2048, MAX_READ))
        .childHandler(new ServerInitializer(config, tls, serverKey, verifier, dispatcher, workers,
            new ConnectionLimits(config.maxConnections(), config.maxConnectionsPerIp()), metrics));
    try {
      listener = bootstrap.bind(config.bind(), config.port()).sync().channel();
    } catch (Exception e) { // also Netty's sneaky BindException
      shutdownGroups();
      throw e;
    }
  }

  /**
   * Fails at once when the configured port cannot be listened on (another server has it), before
   * anything else starts: opening the storage and loading the plugins take seconds, and a store
   * opened for a server that cannot serve is work for nothing. A port of 0 (any free one) is not
   * checked. The real bind comes later, so a port taken in between still fails then.
   *
   * @throws BindException naming the address when the port is taken
   */
  public static void checkPortFree(ServerConfig config) throws IOException {
    if (config.port() == 0) {
      return;
    }
    try (ServerSocket probe = new ServerSocket()) {
      probe.setReuseAddress(true); // as Netty binds: a port in TIME_WAIT is free
      probe.bind(new InetSocketAddress(config.bind(), config.port()));
    } catch (BindException e) {
      BindException named = new BindException(config.bind() + ":" + config.port() + " is in use (" + e.getMessage()
          + "): another server listens there");
      named.initCause(e);
      throw named;
    }
  }

  /** The port actually bound (differs from the configured one when that was 0). */
  public int port() {
    return ((InetSocketAddress) listener.localAddress()).getPort();
  }

  /** Stops accepting, closes every connection and stops the event loops. */
  @Override
  public void close() {
    listener.close().awaitUninterruptibly();
    shutdownGroups();
  }

  private void shutdownGroups() {
    boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    io.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
  }
}
