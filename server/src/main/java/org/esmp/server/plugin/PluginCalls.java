package org.esmp.server.plugin;

import io.netty.util.Timeout;
import io.netty.util.Timer;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.esmp.api.ErrorCode;
import org.esmp.api.RejectedException;
import org.esmp.server.metrics.ServerMetrics;

/**
 * Every call the server makes into one plugin, run on that plugin's own threads and bounded in
 * time. This is the plugin's bulkhead: a plugin that throws, hangs or answers {@code null} fails
 * only the call at hand, and a plugin whose every thread hangs delays only the messages of its own
 * types; the server's workers never run plugin code.
 *
 * <p>Two bounds: the plugin's method must return within the call timeout
 * ({@code plugin_timeout_seconds}), and a stage it returned must complete within the answer timeout
 * ({@code plugin_answer_timeout_seconds}, longer: a delivery's stage completes once the message is
 * durable, which takes longer under load, or when many messages queue for one group).
 *
 * <p>A call's result fails with {@link PluginCallException} when the plugin threw (anything but a
 * {@link RejectedException}, which is the plugin's protocol answer and passes through), returned
 * {@code null}, or did not return or answer in time. On a timeout the plugin's thread is
 * interrupted, and whatever the plugin answers later is ignored: a check that answers too late has
 * not let its message through.
 *
 * <p>Calls are counted from their start until their result is decided, so that {@link #drain}
 * can wait for the messages in flight before the plugin's class loader is closed.
 */
public final class PluginCalls {

  /** Threads that end when idle this long; a plugin that is not called holds none. */
  private static final long KEEP_ALIVE_SECONDS = 30;

  private final String pluginId;
  private final Duration callTimeout;
  private final Duration answerTimeout;
  private final Timer timer;
  private final ThreadPoolExecutor executor;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final ServerMetrics.PluginMeters meters;
  private volatile boolean closing;

  /**
   * @param threads most calls of this plugin running at once; more wait their turn
   * @param callTimeout how long a method may take to return
   * @param answerTimeout how long the stage a method returned may take to complete, from the call
   * @param timer where timeouts fire; shared by every plugin. A hashed wheel: setting and cancelling a
   *     timeout, twice per call, takes no lock and wakes no thread
   * @param classLoader the plugin's, set as the context class loader of its threads
   * @param meters where the calls of messages are counted and timed (not starting and stopping)
   */
  PluginCalls(String pluginId, int threads, Duration callTimeout, Duration answerTimeout,
      Timer timer, ClassLoader classLoader, ServerMetrics.PluginMeters meters) {
    this.pluginId = pluginId;
    this.meters = meters;
    this.callTimeout = callTimeout;
    this.answerTimeout = answerTimeout.compareTo(callTimeout) < 0 ? callTimeout : answerTimeout;
    this.timer = timer;
    AtomicInteger count = new AtomicInteger();
    this.executor = new ThreadPoolExecutor(threads, threads, KEEP_ALIVE_SECONDS, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(), task -> {
          Thread thread = new Thread(task, "esmp-plugin-" + pluginId + "-" + count.incrementAndGet());
          thread.setDaemon(true);
          thread.setContextClassLoader(classLoader);
          return thread;
        });
    executor.allowCoreThreadTimeOut(true);
  }

  /** The id of the plugin these calls go to. */
  public String pluginId() {
    return pluginId;
  }

  /** The plugin's meters. */
  ServerMetrics.PluginMeters meters() {
    return meters;
  }

  /**
   * One call into the plugin.
   *
   * @param returned completes (never exceptionally) once the plugin's method has returned or thrown,
   *     or the timeout passed: until then the plugin may still be reading the message
   * @param result the plugin's answer, as described in the class comment
   */
  public record Call<T>(CompletableFuture<Void> returned, CompletableFuture<T> result) {}

  /**
   * Calls a method that answers with a stage (a handler, a delivery): it must return within the
   * call timeout, and its stage complete within the answer timeout.
   *
   * @param what the method, for messages: {@code "handle"}, {@code "deliver"}...
   */
  public <T> Call<T> callAsync(String what, Callable<? extends CompletionStage<T>> method) {
    return invoke(what, method, true, false);
  }

  /**
   * @param bounded whether the timeouts apply
   * @param evenWhenClosing whether to run even once {@link #drain} began: the plugin's stop
   */
  private <T> Call<T> invoke(String what, Callable<? extends CompletionStage<T>> method, boolean bounded,
      boolean evenWhenClosing) {
    CompletableFuture<Void> returned = new CompletableFuture<>();
    CompletableFuture<T> result = new CompletableFuture<>();
    if (closing && !evenWhenClosing) {
      returned.complete(null);
      result.completeExceptionally(
          new RejectedException(ErrorCode.UNSUPPORTED_TYPE, "plugin " + pluginId + " is being unloaded"));
      return new Call<>(returned, result);
    }
    inFlight.incrementAndGet();
    // The calls of messages are metered; the plugin's start, stop and extensions' creation are not.
    ServerMetrics.CallMeters metered = evenWhenClosing ? null : meters.method(what);
    long start = metered == null ? 0 : System.nanoTime();
    result.whenComplete((value, failure) -> {
      returned.complete(null);
      if (metered != null) {
        metered.record(outcome(failure), System.nanoTime() - start);
      }
      if (inFlight.decrementAndGet() == 0 && closing) {
        synchronized (this) {
          notifyAll();
        }
      }
    });
    FutureTask<Void> task = new FutureTask<>(() -> {
      CompletionStage<T> stage;
      try {
        stage = method.call();
      } catch (RejectedException e) {
        result.completeExceptionally(e);
        return null;
      } catch (Throwable e) { // an AssertionError or a LinkageError is the plugin's fault too
        result.completeExceptionally(new PluginCallException(pluginId, what + " threw " + e, e));
        if (e instanceof VirtualMachineError fatal) {
          throw fatal;
        }
        return null;
      } finally {
        returned.complete(null);
      }
      if (stage == null) {
        result.completeExceptionally(new PluginCallException(pluginId, what + " returned null", null));
        return null;
      }
      stage.whenComplete((value, failure) -> {
        if (failure != null) {
          Throwable cause = unwrap(failure);
          result.completeExceptionally(cause instanceof RejectedException
              ? cause : new PluginCallException(pluginId, what + " failed: " + cause, cause));
        } else if (value == null) {
          result.completeExceptionally(new PluginCallException(pluginId, what + " answered null", null));
        } else {
          result.complete(value);
        }
      });
      return null;
    });
    if (bounded) {
      Timeout returnDeadline = timer.newTimeout(timeout -> {
        if (!returned.isDone() && result.completeExceptionally(new PluginCallException(
            pluginId, what + " did not return within " + callTimeout.toMillis() + " ms", null, true))) {
          task.cancel(true);
          executor.remove(task);
        }
      }, callTimeout.toMillis(), TimeUnit.MILLISECONDS);
      Timeout answerDeadline = timer.newTimeout(timeout -> {
        result.completeExceptionally(new PluginCallException(
            pluginId, what + " did not answer within " + answerTimeout.toMillis() + " ms", null, true));
      }, answerTimeout.toMillis(), TimeUnit.MILLISECONDS);
      result.whenComplete((value, failure) -> {
        returnDeadline.cancel();
        answerDeadline.cancel();
      });
    }
    try {
      executor.execute(task);
    } catch (RejectedExecutionException e) {
      result.completeExceptionally(new RejectedException(
          ErrorCode.UNSUPPORTED_TYPE, "plugin " + pluginId + " is being unloaded"));
    }
    return new Call<>(returned, result);
  }

  /** Calls a method that answers directly ({@code validate}, {@code onMessage}). */
  public <T> Call<T> call(String what, Callable<T> method) {
    return callAsync(what, () -> CompletableFuture.completedFuture(method.call()));
  }

  /** Calls a method that answers nothing; its result completes with {@code true} once it returned. */
  public Call<Boolean> run(String what, ThrowingRunnable method) {
    return call(what, () -> {
      method.run();
      return Boolean.TRUE;
    });
  }

  /**
   * Calls a method and waits for its answer: for starting and stopping the plugin, on the thread
   * that manages plugins (never a worker).
   *
   * @param bounded whether to wait at most the call timeout, or as long as it takes (a storage opening
   *     its files when the server starts)
   * @throws PluginCallException when the method failed or did not answer in time
   */
  <T> T await(String what, Callable<T> method, boolean bounded) {
    try {
      return invoke(what, () -> CompletableFuture.completedFuture(method.call()), bounded, true).result().get();
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      throw cause instanceof PluginCallException p ? p : new PluginCallException(pluginId, what + ": " + cause, cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PluginCallException(pluginId, what + " interrupted", e);
    }
  }

  /**
   * Refuses new calls and waits until every call in flight has been decided, at most the answer
   * timeout (every call is decided by then). The threads stay until {@link #shutdown}, for the stop
   * call.
   */
  void drain() {
    closing = true;
    long end = System.nanoTime() + answerTimeout.toNanos();
    synchronized (this) {
      while (inFlight.get() > 0) {
        long left = TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime());
        if (left <= 0) {
          return;
        }
        try {
          wait(left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  /** Ends the plugin's threads: idle ones at once, a hung one is interrupted. */
  void shutdown() {
    closing = true;
    executor.shutdownNow();
  }

  /** How a call whose result completed with {@code failure} (null: answered) ended, for its meters. */
  private static ServerMetrics.CallOutcome outcome(Throwable failure) {
    if (failure == null) {
      return ServerMetrics.CallOutcome.OK;
    }
    Throwable cause = unwrap(failure);
    if (cause instanceof RejectedException) {
      return ServerMetrics.CallOutcome.REJECTED;
    }
    return cause instanceof PluginCallException call && call.timedOut()
        ? ServerMetrics.CallOutcome.TIMEOUT : ServerMetrics.CallOutcome.FAILED;
  }

  private static Throwable unwrap(Throwable failure) {
    Throwable cause = failure;
    while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause;
  }

  /** A method of a plugin that answers nothing. */
  @FunctionalInterface
  public interface ThrowingRunnable {
    void run() throws Exception;
  }
}
