package org.esmp.server.store;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.esmp.api.ConflictException;

/**
 * Runs a decision and its conditional commit again when the commit lost a race
 * ({@link ConflictException}): each attempt reads the state anew and decides again.
 */
public final class Retries {

  /**
   * How many times a decision runs at most. On one server the in-process fast paths make conflicts
   * rare; across servers each lost race means another writer won, so a few suffice.
   */
  public static final int ATTEMPTS = 16;

  private Retries() {}

  /**
   * Runs {@code attempt} until it does not fail with {@link ConflictException}, at most
   * {@link #ATTEMPTS} times; the last conflict is the failure then.
   */
  public static <T> CompletionStage<T> onConflict(Supplier<? extends CompletionStage<T>> attempt) {
    return onConflict(attempt, ATTEMPTS);
  }

  private static <T> CompletionStage<T> onConflict(Supplier<? extends CompletionStage<T>> attempt, int left) {
    CompletionStage<T> stage;
    try {
      stage = attempt.get();
    } catch (RuntimeException e) {
      stage = CompletableFuture.failedFuture(e);
    }
    return stage.handle((result, failure) -> {
      if (failure == null) {
        return CompletableFuture.completedFuture(result);
      }
      Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
      if (cause instanceof ConflictException && left > 1) {
        return onConflict(attempt, left - 1);
      }
      return CompletableFuture.<T>failedFuture(cause);
    }).thenCompose(next -> next);
  }
}
