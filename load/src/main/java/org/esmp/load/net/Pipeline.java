package org.esmp.load.net;

import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * One authenticated connection streaming pre-signed frames with at most {@code window} unanswered
 * at a time. A reader thread (started by the constructor) takes every server frame: answers go to
 * the current {@link Batch} and free window room, {@code error}s to the {@link ErrorTally},
 * {@code deliver}s to the {@link DeliveryTracker}. {@link #write} runs on the caller's thread, one
 * batch at a time per pipeline; the next batch may start once the previous one is answered.
 */
public final class Pipeline implements AutoCloseable {

  private final ServerSession session;
  private final int window;
  private final Semaphore room;
  private final long stallNanos;
  private final ErrorTally errors;
  private final DeliveryTracker deliveries;
  private final Thread reader;
  private volatile Batch current;
  private volatile boolean closing;
  private volatile String closedReason;

  /**
   * Takes over {@code session} (set up, its own reads done) and starts reading.
   *
   * @param stallMillis how long the writer waits for window room before giving up
   */
  public Pipeline(ServerSession session, int window, int stallMillis, ErrorTally errors, DeliveryTracker deliveries) {
    this.session = session;
    this.window = window;
    this.room = new Semaphore(window);
    this.stallNanos = TimeUnit.MILLISECONDS.toNanos(stallMillis);
    this.errors = errors;
    this.deliveries = deliveries;
    this.reader = new Thread(this::read, "esmp-load-reader-" + session.identity().address());
    reader.setDaemon(true);
    reader.start();
  }

  public LoadIdentity identity() {
    return session.identity();
  }

  /**
   * Writes the frames of {@code batch} as {@code pacing} says, each once the window has room, and
   * returns when the last is written (not answered: {@link Batch#await}).
   *
   * @throws LoadException when the connection closed, or no window room came for the stall time
   */
  public void write(Batch batch, Pacing pacing) throws IOException, InterruptedException, LoadException {
    current = batch;
    OutputStream out = session.out();
    for (int k = 0; k < batch.size(); k++) {
      long due = 0;
      if (pacing.paced()) {
        due = pacing.due(k);
        sleepUntil(due);
      }
      if (!room.tryAcquire()) {
        out.flush(); // what is buffered must go out before answers can free room
        if (!room.tryAcquire(stallNanos, TimeUnit.NANOSECONDS)) {
          throw new LoadException("no answer from the server for " + stallNanos / 1_000_000_000 + " s with "
              + window + " frames unanswered on " + identity().address() + ": the server stalled");
        }
      }
      if (closedReason != null) {
        throw new LoadException(closedReason);
      }
      batch.sent(k, pacing.paced() ? due : System.nanoTime());
      out.write(batch.frame(k).line());
      if (pacing.paced()) {
        out.flush();
      }
    }
    out.flush();
  }

  /**
   * Sends one frame and waits for its answer (setup steps such as {@code group_created}).
   *
   * @throws RefusedException when it is answered with an {@code error}
   */
  public void call(SignedFrame frame, long timeoutMillis) throws IOException, InterruptedException, LoadException {
    Batch batch = new Batch(List.of(frame), null);
    write(batch, Pacing.unpaced());
    if (!batch.await(timeoutMillis, TimeUnit.MILLISECONDS)) {
      throw new LoadException("no answer within " + timeoutMillis + " ms from " + identity().address());
    }
    if (batch.failure() != null) {
      throw new LoadException(batch.failure());
    }
    if (batch.firstErrorCode() != null) {
      throw new RefusedException(RefusedException.Stage.MESSAGE, batch.firstErrorCode(),
          errors.firstText(batch.firstErrorCode()));
    }
  }

  /** Null while open; else why the connection closed. */
  public String closedReason() {
    return closedReason;
  }

  private void read() {
    LineReader in = session.in();
    String lastError = null;
    long answers = 0;
    try {
      byte[] line;
      while ((line = in.readLine()) != null) {
        long now = System.nanoTime();
        ServerFrame frame = ServerFrame.scan(line);
        if (frame.isDelivery()) {
          deliveries.delivered(frame.id(), now);
          continue;
        }
        if (frame.isError()) {
          errors.record(frame.code(), frame.message());
          lastError = frame.code() + (frame.message() == null ? "" : " (" + frame.message() + ")");
        }
        if (frame.answer()) {
          answers++;
          Batch batch = current;
          if (batch != null) {
            batch.answered(now, frame.isError() ? frame.code() : null);
          }
          room.release();
        }
      }
      closed("the server closed the connection of " + identity().address() + " after " + answers + " answers"
          + (lastError == null ? "" : "; last error: " + lastError));
    } catch (IOException e) {
      closed("the connection of " + identity().address() + " failed after " + answers + " answers: " + e.getMessage()
          + (lastError == null ? "" : "; last error: " + lastError));
    }
  }

  private void closed(String reason) {
    if (closing) {
      return;
    }
    closedReason = reason;
    errors.recordClosed(reason);
    Batch batch = current;
    if (batch != null) {
      batch.fail(reason);
    }
    room.release(window); // a writer waiting for room sees the reason
  }

  private static void sleepUntil(long due) throws InterruptedException {
    long wait;
    while ((wait = due - System.nanoTime()) > 0) {
      LockSupport.parkNanos(wait);
      if (Thread.interrupted()) {
        throw new InterruptedException();
      }
    }
  }

  @Override
  public void close() {
    closing = true;
    session.close();
  }
}
