package org.esmp.server.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.esmp.server.limits.MemoryBudget;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A connection's frames sent from several threads at once, over a real socket from a real event
 * loop: every frame arrives whole, each thread's in the order it sent them, in far fewer flushes
 * than frames; answers' writes keep their place among the frames; and frames not yet written
 * count against the connection's output share.
 */
class OutboxTest {

  private static final int THREADS = 4;
  private static final int FRAMES = 5_000;

  private final EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final AtomicInteger flushes = new AtomicInteger();
  private ServerSocket listener;
  private Socket peer;
  private Channel channel;
  private ConnectionSession session;

  @BeforeEach
  void connect() throws Exception {
    connect(MemoryBudget.output(16 << 20, 64 << 20));
  }

  private void connect(MemoryBudget budget) throws Exception {
    listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    CompletableFuture<OutputMeter> meter = new CompletableFuture<>();
    channel = new Bootstrap().group(loop).channel(NioSocketChannel.class).handler(new ChannelInitializer<SocketChannel>() {
      @Override
      protected void initChannel(SocketChannel ch) {
        OutputMeter output = new OutputMeter(ch, budget, Duration.ofSeconds(5), () -> {});
        ch.pipeline().addLast(new FlushCounter(), output); // the counter sees each flush that reaches the socket
        meter.complete(output);
      }
    }).connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort())).sync().channel();
    peer = listener.accept();
    session = new ConnectionSession(channel, InetAddress.getLoopbackAddress(), new SecureRandom(), meter.get());
  }

  @AfterEach
  void stop() throws Exception {
    disconnect();
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
  }

  private void disconnect() throws Exception {
    channel.close().sync();
    peer.close();
    listener.close();
  }

  @Test
  void framesFromSeveralThreadsArriveWholeInEachThreadsOrderInFewerFlushes() throws Exception {
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> senders = new ArrayList<>();
    List<List<CompletableFuture<Void>>> written = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      int thread = t;
      List<CompletableFuture<Void>> mine = new ArrayList<>();
      written.add(mine);
      Thread sender = new Thread(() -> {
        try {
          start.await();
        } catch (InterruptedException e) {
          return;
        }
        for (int i = 0; i < FRAMES; i++) {
          mine.add(session.send(("{\"thread\":" + thread + ",\"frame\":" + i + ",\"text\":\"" + "x".repeat(i % 50)
              + "\"}").getBytes(StandardCharsets.UTF_8)));
        }
      });
      senders.add(sender);
      sender.start();
    }
    start.countDown();
    for (Thread sender : senders) {
      sender.join();
    }
    int[] next = new int[THREADS];
    BufferedReader in = new BufferedReader(new InputStreamReader(peer.getInputStream(), StandardCharsets.UTF_8));
    for (int n = 0; n < THREADS * FRAMES; n++) {
      String line = in.readLine();
      int thread = Integer.parseInt(line.substring(line.indexOf(':') + 1, line.indexOf(',')));
      int frame = Integer.parseInt(line.substring(line.indexOf("\"frame\":") + 8, line.indexOf(",\"text\"")));
      assertEquals(next[thread], frame, "thread " + thread + "'s frames in the order sent: " + line);
      assertEquals("{\"thread\":" + thread + ",\"frame\":" + frame + ",\"text\":\"" + "x".repeat(frame % 50) + "\"}",
          line, "whole");
      next[thread]++;
    }
    for (List<CompletableFuture<Void>> mine : written) { // read after join(): complete
      assertEquals(FRAMES, mine.size());
      assertNull(CompletableFuture.allOf(mine.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS),
          "every frame's future completes once written");
    }
    assertTrue(flushes.get() < THREADS * FRAMES / 10,
        flushes.get() + " flushes for " + THREADS * FRAMES + " frames: batched, not one per frame");
  }

  @Test
  void writesQueuedAmongFramesKeepTheirPlace() throws Exception {
    for (int i = 0; i < 1_000; i++) {
      if (i % 3 == 0) {
        String answer = "{\"answer\":" + i + "}\n";
        session.writeInOrder(() -> channel.write(Unpooled.copiedBuffer(answer, StandardCharsets.UTF_8)));
      } else {
        session.send(("{\"push\":" + i + "}").getBytes(StandardCharsets.UTF_8));
      }
    }
    BufferedReader in = new BufferedReader(new InputStreamReader(peer.getInputStream(), StandardCharsets.UTF_8));
    for (int i = 0; i < 1_000; i++) {
      assertEquals(i % 3 == 0 ? "{\"answer\":" + i + "}" : "{\"push\":" + i + "}", in.readLine());
    }
  }

  @Test
  void framesNotYetWrittenCountAgainstTheOutputShare() throws Exception {
    disconnect();
    connect(MemoryBudget.output(64 * 1024, 1 << 20));
    CountDownLatch busy = new CountDownLatch(1);
    channel.eventLoop().execute(() -> {
      try {
        busy.await(); // the event loop is held: nothing queued reaches the pipeline
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    byte[] frame = new byte[1024];
    java.util.Arrays.fill(frame, (byte) 'x');
    int sent = 0;
    while (!session.overOutputShare()) {
      assertTrue(++sent <= 65, "over its share once its share is queued, though none of it was written");
      session.send(frame);
    }
    CompletableFuture<Void> refused = session.send(frame);
    assertTrue(refused.isCompletedExceptionally(), "a frame past the share is refused");
    busy.countDown();
    channel.closeFuture().await(5, TimeUnit.SECONDS);
    assertFalse(channel.isActive(), "and the connection is closed: its client syncs again");
  }

  /** Counts the flushes that reach the socket. */
  private final class FlushCounter extends ChannelOutboundHandlerAdapter {
    @Override
    public void flush(ChannelHandlerContext ctx) {
      flushes.incrementAndGet();
      ctx.flush();
    }
  }
}
