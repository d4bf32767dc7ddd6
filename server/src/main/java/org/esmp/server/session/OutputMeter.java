package org.esmp.server.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.esmp.server.limits.MemoryBudget;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection's part of the server's output {@link MemoryBudget}: it counts each frame written
 * to the pipeline until it has left for the socket (or was dropped with the connection), and the
 * connection's share also counts the frames still waiting in its {@link Outbox}; it says
 * whether the connection is over its share, closes the connection once it has stayed over for the
 * grace (whatever queued the output, and whether or not anything more is being sent), and runs
 * what waits for the connection to drain ({@link #whenDrained}). Its client syncs again from its
 * cursor.
 *
 * <p>First in the pipeline, so it sees every write last, after flush batching. While anything is
 * queued or waits for a drain, it looks every {@value #CHECK_MILLIS} ms. {@link #over}, {@link
 * #waiting} and {@link #whenDrained} may be called from any thread; everything else runs on the
 * connection's event loop.
 */
public final class OutputMeter extends ChannelOutboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(OutputMeter.class);
  static final long CHECK_MILLIS = 100;
  private static final long NOT_OVER = -1;

  private final Channel channel;
  private final MemoryBudget budget;
  private final long graceNanos;
  /** Told of each close for staying over the share (metrics). */
  private final Runnable onOverClose;
  /** What runs once the connection is under its share again. */
  private final Queue<Runnable> drainWaiters = new ConcurrentLinkedQueue<>();
  /** Bytes of frames queued to the connection and not yet written to the pipeline. */
  private final AtomicLong waiting = new AtomicLong();
  private long queued;
  private boolean checking;
  private long overSince = NOT_OVER;

  /**
   * @param budget the server's output budget
   * @param grace how long the connection may stay over its share before it is closed
   * @param onOverClose run when the connection is closed for having stayed over its share
   */
  public OutputMeter(Channel channel, MemoryBudget budget, Duration grace, Runnable onOverClose) {
    this.channel = channel;
    this.budget = budget;
    this.graceNanos = grace.toNanos();
    this.onOverClose = onOverClose;
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
    startChecking();
  }

  /**
   * Bytes queued to the connection and not yet written to its socket (any thread): those in its
   * outbound buffer, and those still {@link #waiting} to be handed to it.
   */
  long pending() {
    ChannelOutboundBuffer outbound = channel.unsafe().outboundBuffer();
    return (outbound == null ? 0 : outbound.totalPendingWriteBytes()) + waiting.get();
  }

  /**
   * Counts {@code bytes} (negative: no longer) queued for the connection by another thread and not
   * yet handed to its pipeline ({@link Outbox}): they count towards its share as the outbound
   * buffer does, though not towards the total of all connections until they reach the pipeline,
   * which the event loop's next task does. Any thread.
   */
  void waiting(long bytes) {
    waiting.addAndGet(bytes);
  }

  /** Whether the connection is over its share of the output budget (any thread). */
  boolean over() {
    return budget.over(pending());
  }

  /** Bytes queued to all connections together. */
  long allQueued() {
    return budget.used();
  }

  /**
   * Runs {@code resume} on the event loop once the connection is under its share: at once if it
   * is. If it stays over, it is closed after the grace and {@code resume} never runs.
   */
  void whenDrained(Runnable resume) {
    drainWaiters.add(resume);
    try {
      channel.eventLoop().execute(() -> {
        if (over()) {
          startChecking();
        } else {
          resumeWaiting();
        }
      });
    } catch (RejectedExecutionException stopping) {
      drainWaiters.clear(); // the server is stopping: the connection is being closed
    }
  }

  private void add(long delta) {
    long before = queued;
    queued += delta;
    budget.change(before, queued);
  }

  private void startChecking() {
    if (!checking) {
      checking = true;
      channel.eventLoop().schedule(this::check, CHECK_MILLIS, TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Resumes what waits for a drain, or closes the connection if it has been over its share for the
   * grace; looks again while anything is queued or waiting.
   */
  private void check() {
    if (!channel.isActive()) {
      stopChecking();
      return;
    }
    long pending = pending();
    long now = System.nanoTime();
    if (!budget.over(pending)) {
      overSince = NOT_OVER;
      resumeWaiting();
      if (queued == 0) {
        checking = false;
        return;
      }
    } else if (overSince == NOT_OVER) {
      overSince = now;
    } else if (now - overSince >= graceNanos) {
      log.debug("Connection {} stayed over its output share for the grace ({} bytes waiting, {} for all): closing it",
          channel.remoteAddress(), pending, budget.used());
      stopChecking();
      channel.close();
      onOverClose.run();
      return;
    }
    channel.eventLoop().schedule(this::check, CHECK_MILLIS, TimeUnit.MILLISECONDS);
  }

  private void resumeWaiting() {
    for (Runnable resume; (resume = drainWaiters.poll()) != null; ) {
      resume.run();
    }
  }

  private void stopChecking() {
    checking = false;
    overSince = NOT_OVER;
    drainWaiters.clear();
  }
}
