package org.esmp.server.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection's writes, from any thread, in the order they were queued, written on its event
 * loop in batches: one event-loop task and one flush per batch, not per frame. A hundred pushes
 * queued by the workers while the event loop was busy leave in one task and one flush.
 *
 * <p>Everything written to the connection goes through here: frames ({@link #send}) and the
 * answers' writes ({@link #execute}), so that a frame queued before another is written before it,
 * whichever thread queued either. On the event loop itself a write is not put off: the queue is
 * written at once, up to and including it (unless other threads queued more than a batch before).
 *
 * <p><b>Memory.</b> A frame waiting here is counted by the connection's {@link OutputMeter} as
 * part of what the connection has queued, from when it is queued until it has been handed to the
 * pipeline (where the meter counts it itself), as Netty counted a write task queued from another
 * thread before. Every sender checks the connection's output share first ({@link
 * ConnectionSession#send} closes a connection over it, a subscription waits for it to drain), so
 * this queue holds at most the connection's share, plus a frame per sender racing the check. An
 * answer's write ({@link #execute}) is counted once it writes, as before: a connection has at most
 * a fixed number of frames awaiting their answer. And the queue never holds anything long: the
 * event loop's next task empties it, {@value #BATCH} writes at a time.
 *
 * <p>Thread-safe. {@link #send} and {@link #execute} never block.
 */
final class Outbox {

  private static final Logger log = LoggerFactory.getLogger(Outbox.class);

  /** Writes per event-loop task at most, then the task yields to the loop's other connections. */
  static final int BATCH = 1024;

  private final Channel channel;
  private final OutputMeter meter;
  private final Queue<Runnable> writes = new ConcurrentLinkedQueue<>();
  /** Whether a task to write the queue is on the event loop, or the loop is writing it now. */
  private final AtomicBoolean scheduled = new AtomicBoolean();
  /** Set while the event loop writes the queue: a write queued by one it runs waits its turn. */
  private boolean writing;

  Outbox(Channel channel, OutputMeter meter) {
    this.channel = channel;
    this.meter = meter;
  }

  /**
   * Queues {@code frame} (newline included) after every write queued before it.
   *
   * @return completes when the frame has been written to the socket, or failed
   */
  CompletableFuture<Void> send(ByteBuf frame) {
    CompletableFuture<Void> written = new CompletableFuture<>();
    int size = frame.readableBytes();
    meter.waiting(size);
    queue(new Frame(frame, size, written));
    return written;
  }

  /**
   * Runs {@code write} on the event loop after every write queued before it; what it writes (never
   * flushing) leaves with the batch's flush. If the event loop has stopped (the server is stopping,
   * the connection is being closed), it never runs.
   */
  void execute(Runnable write) {
    queue(write);
  }

  private void queue(Runnable write) {
    writes.add(write);
    if (channel.eventLoop().inEventLoop()) {
      if (writing || !writeQueued(BATCH)) { // up to this write (if other threads queued less than a batch)
        return;
      }
    }
    if (scheduled.compareAndSet(false, true)) {
      schedule();
    }
  }

  private void schedule() {
    try {
      channel.eventLoop().execute(this::writeBatch);
    } catch (RejectedExecutionException stopping) {
      // The event loop has stopped, so has the connection: nothing here will be written.
      scheduled.set(false);
      drop(stopping);
    }
  }

  /** The event loop's task: one batch, then again if more came meanwhile. */
  private void writeBatch() {
    if (writeQueued(BATCH)) {
      schedule(); // more than a batch: the loop's other connections first
      return;
    }
    scheduled.set(false);
    // A write queued between the last poll and the reset found the task still scheduled and
    // scheduled none: look again.
    if (!writes.isEmpty() && scheduled.compareAndSet(false, true)) {
      schedule();
    }
  }

  /**
   * Runs queued writes in order, at most {@code max}, and flushes once; again if the flush queued
   * more (a written frame completes its future here, and what waits for it may send). On the event
   * loop.
   *
   * @return whether writes were left in the queue
   */
  private boolean writeQueued(int max) {
    writing = true;
    try {
      int ran = 0;
      while (ran < max && !writes.isEmpty()) {
        for (Runnable write; ran < max && (write = writes.poll()) != null; ran++) {
          try {
            write.run();
          } catch (RuntimeException e) {
            log.warn("Connection {}: a write failed", channel.remoteAddress(), e);
          }
        }
        channel.flush();
      }
    } finally {
      writing = false;
    }
    return !writes.isEmpty();
  }

  /** Fails every frame queued, after the event loop refused to write them. */
  private void drop(Throwable cause) {
    for (Runnable write; (write = writes.poll()) != null; ) {
      if (write instanceof Frame frame) {
        frame.fail(cause);
      }
    }
  }

  /** A frame waiting to be written, counted by the meter meanwhile. */
  private final class Frame implements Runnable {
    private final ByteBuf bytes;
    private final int size;
    private final CompletableFuture<Void> written;

    Frame(ByteBuf bytes, int size, CompletableFuture<Void> written) {
      this.bytes = bytes;
      this.size = size;
      this.written = written;
    }

    @Override
    public void run() {
      channel.write(bytes).addListener(f -> {
        if (f.isSuccess()) {
          written.complete(null);
        } else {
          written.completeExceptionally(f.cause());
        }
      });
      meter.waiting(-size); // now in the outbound buffer, which the meter counts itself
    }

    void fail(Throwable cause) {
      meter.waiting(-size);
      bytes.release();
      written.completeExceptionally(cause);
    }
  }
}
