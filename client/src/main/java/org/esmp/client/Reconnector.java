package org.esmp.client;

import java.io.IOException;
import java.time.Duration;

/**
 * Resumes a synced client whose connection was lost: on its own daemon thread, it waits (1 s,
 * doubling up to 30 s after each failed attempt) and asks its {@link Target} to reconnect, until
 * that works, the client is closed, or the server refuses the client ({@link ServerException}:
 * retrying would not help).
 *
 * <p><b>Threads.</b> {@link #resume} may be called from any thread, typically a connection's
 * reader thread as it ends; at most one reconnect thread runs at a time, and a connection that
 * is lost while it runs is its business. The {@link Target} is called on the reconnect thread,
 * except {@link Target#needsResume}, which is called by {@link #resume} under this object's lock
 * (so it must not call back into this object).
 *
 * @param <C> the client's connection, opaque here
 */
final class Reconnector<C> {

  /** What a reconnect needs from the client. */
  interface Target<C> {

    /** Whether losing {@code lost} calls for a reconnect: it is the current one of an open, synced client. */
    boolean needsResume(C lost);

    /**
     * Opens a new connection, makes it the current one, authenticates and syncs on it; does
     * nothing if the client was closed meanwhile.
     *
     * @throws ServerException if the server refuses the client: no more attempts
     * @throws IOException for anything else: another attempt after the backoff
     */
    void reconnect() throws IOException;

    /** The server refused the client: stop for good (and tell the listener). */
    void refused(ServerException why);

    /** Whether the client was closed: no more attempts. */
    boolean isClosed();

    /** The current connection if it has ended too, else null. */
    C lostConnection();
  }

  /** How the reconnect thread waits between attempts. */
  interface Sleeper {
    void sleep(Duration time) throws InterruptedException;
  }

  static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
  static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

  private final Target<C> target;
  private final Duration firstBackoff;
  private final Duration maxBackoff;
  private final Sleeper sleeper;
  private boolean running; // guarded by this

  Reconnector(Target<C> target) {
    this(target, FIRST_BACKOFF, MAX_BACKOFF, time -> Thread.sleep(time.toMillis()));
  }

  Reconnector(Target<C> target, Duration firstBackoff, Duration maxBackoff, Sleeper sleeper) {
    this.target = target;
    this.firstBackoff = firstBackoff;
    this.maxBackoff = maxBackoff;
    this.sleeper = sleeper;
  }

  /** After {@code lost} ended: starts a reconnect thread if the target needs one and none runs. */
  void resume(C lost) {
    synchronized (this) {
      if (running || !target.needsResume(lost)) {
        return; // a connection that fails while resuming is the running thread's business
      }
      running = true;
    }
    Thread t = new Thread(() -> {
      try {
        attempts();
      } finally {
        synchronized (this) {
          running = false;
        }
        C now = target.lostConnection();
        if (now != null) {
          resume(now); // it dropped while this thread was finishing
        }
      }
    }, "esmp-reconnect");
    t.setDaemon(true);
    t.start();
  }

  private void attempts() {
    Duration backoff = firstBackoff;
    while (!target.isClosed()) {
      try {
        sleeper.sleep(backoff);
        target.reconnect();
        return;
      } catch (InterruptedException e) {
        return;
      } catch (ServerException refused) {
        target.refused(refused);
        return;
      } catch (IOException e) {
        backoff = backoff.multipliedBy(2);
        if (backoff.compareTo(maxBackoff) > 0) {
          backoff = maxBackoff;
        }
      }
    }
  }
}
