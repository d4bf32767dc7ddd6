package org.esmp.plugins.groupthreads;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class KeyedQueueTest {

  private final ExecutorService pool = Executors.newFixedThreadPool(2, task -> new Thread(task, "queue-pool"));
  private final KeyedQueue queue = new KeyedQueue(pool);

  @AfterEach
  void tearDown() {
    pool.shutdownNow();
  }

  @Test
  void runsTasksOfOneKeyOneAfterAnotherInOrder() throws Exception {
    CompletableFuture<String> firstWork = new CompletableFuture<>();
    List<String> started = new ArrayList<>();
    CompletableFuture<String> first = queue.submit("k", () -> {
      started.add("first");
      return firstWork;
    });
    CompletableFuture<String> second = queue.submit("k", () -> {
      started.add("second");
      return CompletableFuture.completedFuture("two");
    });
    Thread.sleep(50);
    assertEquals(List.of("first"), started, "the second waits while the first's stage is pending");
    assertEquals(1, queue.activeKeys());
    firstWork.complete("one");
    assertEquals("one", first.get(5, TimeUnit.SECONDS));
    assertEquals("two", second.get(5, TimeUnit.SECONDS));
    assertEquals(List.of("first", "second"), started);
    assertEquals(0, queue.activeKeys(), "an idle key holds nothing");
  }

  @Test
  void taskThatWaitedRunsOnTheExecutorNotOnTheCompletingThread() throws Exception {
    CompletableFuture<Void> firstWork = new CompletableFuture<>();
    queue.submit("k", () -> firstWork);
    CompletableFuture<String> thread = queue.submit("k",
        () -> CompletableFuture.completedFuture(Thread.currentThread().getName()));
    Thread completer = new Thread(() -> firstWork.complete(null), "storage-commit");
    completer.start();
    completer.join();
    assertEquals("queue-pool", thread.get(5, TimeUnit.SECONDS));
  }

  @Test
  void idleKeyRunsOnTheCallersThread() throws Exception {
    String caller = Thread.currentThread().getName();
    assertEquals(caller, queue.submit("k", () -> CompletableFuture.completedFuture(Thread.currentThread().getName()))
        .get(5, TimeUnit.SECONDS));
  }

  @Test
  void otherKeysDoNotWait() throws Exception {
    CompletableFuture<Void> blocked = new CompletableFuture<>();
    queue.submit("a", () -> blocked);
    assertEquals("b", queue.submit("b", () -> CompletableFuture.completedFuture("b")).get(5, TimeUnit.SECONDS));
    assertEquals(1, queue.activeKeys());
    blocked.complete(null);
  }

  @Test
  void failuresPassUnwrappedAndDoNotStopTheKey() throws Exception {
    IllegalStateException thrown = new IllegalStateException("thrown");
    CompletableFuture<String> a = queue.submit("k", () -> {
      throw thrown;
    });
    IllegalArgumentException inner = new IllegalArgumentException("inner");
    CompletableFuture<String> b = queue.submit("k",
        () -> CompletableFuture.<String>completedFuture("x").thenApply(x -> {
          throw new CompletionException(inner);
        }));
    CompletableFuture<String> c = queue.submit("k", () -> CompletableFuture.completedFuture("c"));
    assertSame(thrown, assertThrows(ExecutionException.class, () -> a.get(5, TimeUnit.SECONDS)).getCause());
    assertSame(inner, assertThrows(ExecutionException.class, () -> b.get(5, TimeUnit.SECONDS)).getCause());
    assertEquals("c", c.get(5, TimeUnit.SECONDS));
    assertEquals(0, queue.activeKeys());
  }

  @Test
  void keepsOrderUnderContention() throws Exception {
    int n = 2000;
    List<Integer> ran = new ArrayList<>();
    List<CompletableFuture<Integer>> done = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int index = i;
      // Half the tasks finish later on another thread, as a commit would.
      done.add(queue.submit("k", () -> {
        ran.add(index);
        return index % 2 == 0
            ? CompletableFuture.completedFuture(index)
            : CompletableFuture.supplyAsync(() -> index, CompletableFuture.delayedExecutor(0, TimeUnit.MILLISECONDS));
      }));
    }
    for (CompletableFuture<Integer> f : done) {
      f.get(10, TimeUnit.SECONDS);
    }
    List<Integer> expected = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      expected.add(i);
    }
    assertEquals(expected, ran);
    assertFalse(ran.isEmpty());
    assertTrue(queue.activeKeys() == 0);
    assertNotEquals(null, done.get(n - 1).get());
  }
}
