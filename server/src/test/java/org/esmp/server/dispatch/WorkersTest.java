package org.esmp.server.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
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
}
