package org.esmp.server.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** {@link Workers#here()}: server work runs on a worker, at once when already on one. */
class WorkersTest {

  @Test
  void runsAtOnceOnAWorkerAndHandsOffFromAnyOtherThread() throws Exception {
    try (Workers workers = new Workers(2); Workers others = new Workers(1)) {
      assertFalse(workers.inWorker(), "the test's thread is no worker");

      CompletableFuture<String> fromHere = new CompletableFuture<>();
      workers.here().execute(() -> fromHere.complete(Thread.currentThread().getName()));
      assertTrue(fromHere.get(5, TimeUnit.SECONDS).startsWith("esmp-worker-"), "handed to a worker");

      CompletableFuture<Boolean> inline = new CompletableFuture<>();
      workers.execute(() -> {
        Thread caller = Thread.currentThread();
        workers.here().execute(() -> inline.complete(Thread.currentThread() == caller));
      });
      assertTrue(inline.get(5, TimeUnit.SECONDS), "run on the calling worker itself");

      CompletableFuture<String> fromOtherPool = new CompletableFuture<>();
      others.execute(() -> {
        assertFalse(workers.inWorker(), "a worker of another pool is not one of these");
        Thread caller = Thread.currentThread();
        workers.here().execute(() -> fromOtherPool.complete(
            Thread.currentThread() == caller ? "inline" : Thread.currentThread().getName()));
      });
      String ranOn = fromOtherPool.get(5, TimeUnit.SECONDS);
      assertNotEquals("inline", ranOn);
      assertEquals(true, ranOn.startsWith("esmp-worker-"));
    }
  }

  /**
   * A long chain of stages, each ready once the one before completes (as a connection's pipelined
   * frames are dispatched), started on a worker: it all runs, and the stack stays short. Each stage
   * running inside the one before overflowed the stack.
   */
  @Test
  void aLongChainOfStagesRunsOnAShortStack() throws Exception {
    int stages = 20_000;
    try (Workers workers = new Workers(2)) {
      CompletableFuture<Integer> first = new CompletableFuture<>();
      AtomicInteger deepest = new AtomicInteger();
      CompletableFuture<Integer> last = first;
      for (int i = 0; i < stages; i++) {
        last = last.thenApplyAsync(n -> {
          deepest.accumulateAndGet(Thread.currentThread().getStackTrace().length, Math::max);
          return n + 1;
        }, workers.here());
      }
      workers.execute(() -> first.complete(0));
      assertEquals(stages, last.get(30, TimeUnit.SECONDS), "every stage ran, none failed");
      // About ten frames a nested task; the JVM reports at most 1,024.
      assertTrue(deepest.get() < 20 * Workers.MAX_NESTED + 100, "stack frames at the deepest stage: " + deepest.get());
    }
  }
}
