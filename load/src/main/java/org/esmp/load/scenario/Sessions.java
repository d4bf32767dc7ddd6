package org.esmp.load.scenario;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.esmp.load.net.LoadException;
import org.esmp.load.net.LoadIdentity;
import org.esmp.load.net.ServerSession;

/**
 * Sets up many connections a few at a time ({@link Settings#setupParallelism}): each connects,
 * authenticates (registering its address) and optionally syncs. Stops at the first refusal.
 */
final class Sessions {

  /**
   * The sessions that opened, in the order of their identities, and the first failure if one
   * stopped the rest.
   */
  record Opened(List<ServerSession> sessions, Exception failure) {

    /** All of them, or the failure (closing those that opened). */
    List<ServerSession> all() throws IOException, LoadException {
      if (failure == null) {
        return sessions;
      }
      sessions.forEach(ServerSession::close);
      if (failure instanceof IOException io) {
        throw io;
      }
      throw (LoadException) failure;
    }
  }

  private Sessions() {}

  static Opened open(RunContext context, List<LoadIdentity> identities, boolean sync) throws InterruptedException {
    int n = identities.size();
    AtomicReferenceArray<ServerSession> opened = new AtomicReferenceArray<>(n);
    AtomicReference<Exception> failure = new AtomicReference<>();
    AtomicBoolean stop = new AtomicBoolean();
    int threads = Math.max(1, Math.min(n, context.settings().setupParallelism()));
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      for (int i = 0; i < n; i++) {
        int index = i;
        pool.execute(() -> {
          if (stop.get()) {
            return;
          }
          try {
            opened.set(index, ServerSession.open(context.target(), identities.get(index), context.signer(), sync,
                context.settings().timeoutMillis()));
          } catch (IOException | LoadException e) {
            if (failure.compareAndSet(null, e)) {
              stop.set(true);
            }
          }
        });
      }
    } finally {
      pool.shutdown();
      if (!pool.awaitTermination(context.settings().timeoutSeconds() + 60L, TimeUnit.SECONDS)) {
        pool.shutdownNow();
      }
    }
    List<ServerSession> sessions = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      if (opened.get(i) != null) {
        sessions.add(opened.get(i));
      }
    }
    return new Opened(sessions, failure.get());
  }
}
