package org.esmp.server.store;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import org.esmp.api.Address;
import org.esmp.server.mailbox.EncodedEntry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pushes committed entries to their mailboxes' followers on the workers, in commit order per
 * mailbox, mailboxes in parallel. The storage completes commits in order on its own thread; there
 * each entry is only queued to the lane of its address (a few nanoseconds), and the lanes run on
 * the workers, each one task at a time. Entries of one mailbox therefore reach its subscriptions
 * in cursor order, so each is sent at once; out of order they would make every subscription read
 * the mailbox back from the storage.
 *
 * <p>{@link #push} is thread-safe; it is called in commit order from the storage's thread.
 */
final class PushLanes {

  private static final Logger log = LoggerFactory.getLogger(PushLanes.class);

  private final Lane[] lanes;
  private final Commits.Publisher publish;

  /** @param lanes how many mailboxes may be pushed to at once; about the number of workers */
  PushLanes(int lanes, Executor workers, Commits.Publisher publish) {
    this.lanes = new Lane[Math.max(1, lanes)];
    for (int i = 0; i < this.lanes.length; i++) {
      this.lanes[i] = new Lane(workers);
    }
    this.publish = publish;
  }

  /**
   * Queues {@code entry}, at {@code cursor} in {@code address}'s mailbox, for the followers of the
   * mailbox, after the entries queued before.
   */
  void push(Address address, long cursor, EncodedEntry entry) {
    lanes[Math.floorMod(address.hashCode(), lanes.length)].execute(() -> publish.publish(address, cursor, entry));
  }

  /** Runs its tasks one at a time, in the order queued, on the workers. */
  private static final class Lane implements Runnable {
    private final Executor workers;
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();

    Lane(Executor workers) {
      this.workers = workers;
    }

    void execute(Runnable task) {
      tasks.add(task);
      if (scheduled.compareAndSet(false, true)) {
        workers.execute(this);
      }
    }

    @Override
    public void run() {
      for (int ran = 0; ran < 1024; ran++) { // then yield the worker to other work
        Runnable task = tasks.poll();
        if (task == null) {
          scheduled.set(false);
          // A task queued between the poll and the reset finds scheduled set and schedules nothing:
          // look again.
          if (tasks.isEmpty() || !scheduled.compareAndSet(false, true)) {
            return;
          }
          continue;
        }
        try {
          task.run();
        } catch (RuntimeException e) {
          log.warn("A push failed", e);
        }
      }
      workers.execute(this);
    }
  }
}
