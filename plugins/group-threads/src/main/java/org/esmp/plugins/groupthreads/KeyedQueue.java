package org.esmp.plugins.groupthreads;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * Runs asynchronous tasks one at a time per key, in the order they were submitted, without holding a
 * thread while a task waits: a task's turn lasts until the stage it returns completes, and the next
 * task of that key starts only then.
 *
 * <p>Thread-safe. A task whose key is idle runs at once on the submitting thread; a task that had
 * to wait runs on {@code executor}, never on the thread that completed its predecessor (for a group
 * commit that is the storage's own thread, which must not be blocked). A key with nothing queued
 * holds no memory.
 */
final class KeyedQueue {

  /** Per key, the turn of the last task submitted: completes when that task's stage does. */
  private final Map<String, CompletableFuture<Void>> tails = new ConcurrentHashMap<>();
  private final Executor executor;

  /** @param executor where a task that waited for its predecessor runs */
  KeyedQueue(Executor executor) {
    this.executor = executor;
  }

  /**
   * Runs {@code task} once every task submitted earlier for {@code key} is over.
   *
   * @return completes as the task's stage does; a failure (or a task that throws) completes it with
   *     the cause itself, not wrapped in a {@link CompletionException}
   */
  <T> CompletableFuture<T> submit(String key, Supplier<? extends CompletionStage<T>> task) {
    CompletableFuture<T> result = new CompletableFuture<>();
    CompletableFuture<Void> turn = new CompletableFuture<>();
    CompletableFuture<Void> previous = tails.put(key, turn);
    Runnable run = () -> {
      CompletionStage<T> stage;
      try {
        stage = task.get();
      } catch (RuntimeException | Error e) {
        stage = CompletableFuture.failedFuture(e);
      }
      stage.whenComplete((value, failure) -> {
        tails.remove(key, turn); // idle again unless a later task queued behind this one
        turn.complete(null);
        if (failure != null) {
          result.completeExceptionally(unwrap(failure));
        } else {
          result.complete(value);
        }
      });
    };
    if (previous == null || previous.isDone()) {
      run.run();
    } else {
      previous.whenCompleteAsync((ignored, failure) -> run.run(), executor);
    }
    return result;
  }

  /** How many keys have a task running or queued; for tests. */
  int activeKeys() {
    return tails.size();
  }

  private static Throwable unwrap(Throwable failure) {
    Throwable cause = failure;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause;
  }
}
