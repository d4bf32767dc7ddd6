package org.esmp.server.dispatch;

import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.esmp.api.MessageListener;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.esmp.server.plugin.PluginRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands every answered message to the {@link MessageListener}s on one thread of its own, through a
 * bounded queue: a slow listener can delay only other listener calls, never a connection, and never
 * make the server hold unbounded memory (when the queue is full, the oldest call is dropped).
 */
public final class ListenerBus implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ListenerBus.class);

  private record Call(List<PluginRegistry.Owned<MessageListener>> listeners, Request request, Reply reply) {}

  private final BlockingQueue<Call> queue;
  private final Thread thread;
  private final AtomicLong dropped = new AtomicLong();
  private volatile boolean running = true;

  public ListenerBus(int capacity) {
    this.queue = new ArrayBlockingQueue<>(capacity);
    this.thread = new Thread(this::run, "esmp-listeners");
    this.thread.setDaemon(true);
    this.thread.start();
  }

  /** Queues one call of every listener in {@code listeners}; never blocks. */
  public void publish(List<PluginRegistry.Owned<MessageListener>> listeners, Request request, Reply reply) {
    if (listeners.isEmpty()) {
      return;
    }
    Call call = new Call(listeners, request, reply);
    while (!queue.offer(call)) {
      if (queue.poll() != null && dropped.incrementAndGet() % 1000 == 1) {
        log.warn("Message listeners are too slow: dropped {} calls so far", dropped.get());
      }
    }
  }

  private void run() {
    while (running || !queue.isEmpty()) {
      Call call;
      try {
        call = queue.poll(100, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        return;
      }
      if (call == null) {
        continue;
      }
      for (PluginRegistry.Owned<MessageListener> listener : call.listeners()) {
        try {
          listener.extension().onMessage(call.request(), call.reply());
        } catch (RuntimeException | LinkageError e) {
          log.warn("Plugin {}: message listener failed on message {}; skipped",
              listener.pluginId(), call.request().message().id(), e);
        }
      }
    }
  }

  /** Delivers what is queued (for at most a second), then stops the thread. */
  @Override
  public void close() {
    running = false;
    try {
      thread.join(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    thread.interrupt();
  }
}
