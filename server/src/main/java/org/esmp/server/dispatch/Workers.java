package org.esmp.server.dispatch;

import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The server's own worker threads: they verify frames, dispatch them and read mailbox backlogs.
 * Only server code runs here: plugin code runs on each plugin's threads (see
 * {@link org.esmp.server.plugin.PluginCalls}), storage commits on the storage's own thread, and
 * socket I/O on Netty's event loops, none of which run server dispatch.
 *
 * <p>{@link #here()} runs a task at once when the caller already is a worker and hands it to one
 * otherwise: a dispatch that becomes ready on a worker costs no hand-off, and one that becomes ready
 * on any other thread (a plugin's, the storage's, a timer's, an event loop) never runs there.
 *
 * <p>Running at once nests: a task run so may complete a future whose next stage runs at once too,
 * and so on (a connection's pipelined frames, each dispatched once the one before was handed over).
 * Past {@value #MAX_NESTED} tasks nested on one worker, the next one is handed to the pool instead,
 * so the stack stays short however long such a chain is. Unbounded, a chain of a few hundred frames
 * overflowed a worker's stack, and the {@link StackOverflowError} struck wherever the stack ended:
 * in a storage's database driver too, halfway through a message to the database.
 *
 * <p>Thread-safe.
 */
public final class Workers implements Executor, AutoCloseable {

  /** Tasks run at once, nested on one worker, at most: a few hundred stack frames. */
  static final int MAX_NESTED = 16;

  private final ThreadPoolExecutor pool;
  private final Executor here = this::runHere;

  /** @param threads how many workers; one per core verifies at full speed */
  public Workers(int threads) {
    AtomicInteger count = new AtomicInteger();
    pool = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), task -> {
      Thread thread = new WorkerThread(this, task, "esmp-worker-" + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    });
  }

  /** Queues {@code task} for a worker. */
  @Override
  public void execute(Runnable task) {
    pool.execute(task);
  }

  /** Whether the calling thread is one of these workers. */
  public boolean inWorker() {
    return Thread.currentThread() instanceof WorkerThread thread && thread.owner == this;
  }

  /**
   * An executor that runs a task on the calling thread if it is a worker (unless {@value
   * #MAX_NESTED} tasks are nested there already), else on a worker.
   */
  public Executor here() {
    return here;
  }

  private void runHere(Runnable task) {
    if (Thread.currentThread() instanceof WorkerThread worker && worker.owner == this && worker.nested < MAX_NESTED) {
      worker.nested++;
      try {
        task.run();
      } finally {
        worker.nested--;
      }
    } else {
      pool.execute(task);
    }
  }

  /** Lets queued tasks finish for up to five seconds, then interrupts what still runs. */
  @Override
  public void close() {
    pool.shutdown();
    try {
      if (!pool.awaitTermination(5, TimeUnit.SECONDS)) {
        pool.shutdownNow();
      }
    } catch (InterruptedException e) {
      pool.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  /** A worker, marked with the pool it belongs to. */
  private static final class WorkerThread extends Thread {
    final Workers owner;
    /** Tasks of {@link #runHere} running on this thread, one inside the other; this thread's only. */
    int nested;

    WorkerThread(Workers owner, Runnable task, String name) {
      super(task, name);
      this.owner = owner;
    }
  }
}
