package org.esmp.server.store;

import java.time.Clock;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import org.esmp.api.Address;
import org.esmp.api.MailboxEntry;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.esmp.api.Writes;
import org.esmp.api.spi.Storage;
import org.esmp.api.spi.StorageChange;

/**
 * The one path by which anything is appended to a mailbox: every plugin's {@link PluginStore}
 * and the server's own deliveries commit here. A commit is made durable by the storage, then, on
 * a worker thread (never the storage's commit thread, which only commits), its appends are pushed
 * to the connections following those mailboxes and its stage completes.
 *
 * <p>A commit for a message records it as accepted, in the same storage change as its effects,
 * when its type is deduplicated and its answer is an {@code ack}: the storage refuses the change
 * with {@link org.esmp.api.DuplicateException} when the id was recorded already, whoever recorded
 * it. Thread-safe; never blocks.
 */
public final class Commits {

  private final Supplier<Storage> storage;
  private final BiConsumer<Address, MailboxEntry> publish;
  private final Clock clock;
  private final Executor workers;

  /**
   * @param storage the storage in use, looked up on each commit
   * @param publish pushes an entry just committed to the connections that follow its mailbox
   * @param workers where pushes run and stages complete
   */
  public Commits(Supplier<Storage> storage, BiConsumer<Address, MailboxEntry> publish, Clock clock, Executor workers) {
    this.storage = storage;
    this.publish = publish;
    this.clock = clock;
    this.workers = workers;
  }

  /**
   * Commits {@code writes} as the effects of {@code request}, recording it as accepted with
   * {@code answer} if it is to be (see the class comment).
   *
   * @throws IllegalArgumentException when {@code request} is not one the server made
   */
  public CompletionStage<List<Long>> commit(Request request, Writes writes, Reply answer) {
    return commit(request, StorageChange.builder().writes(writes), writes, answer);
  }

  /**
   * Commits {@code change}, a change of the server's own (identities: only the server binds keys),
   * as the effect of {@code request}, recording it as {@link #commit(Request, Writes, Reply)} does.
   */
  public CompletionStage<List<Long>> commitServerChange(Request request, StorageChange.Builder change, Reply answer) {
    return commit(request, change, Writes.NONE, answer);
  }

  private CompletionStage<List<Long>> commit(Request request, StorageChange.Builder change, Writes writes,
      Reply answer) {
    if (!(request instanceof IncomingRequest incoming)) {
      throw new IllegalArgumentException("not a request the server handed to a plugin: " + request);
    }
    boolean records = incoming.deduplicated() && !incoming.recorded() && answer != null && answer.isAck();
    if (records) {
      change.accept(incoming.message().id(), clock.millis(), answer.fields());
    }
    return commit(change.build(), writes).thenApply(cursors -> {
      if (records) {
        incoming.markRecorded();
      }
      return cursors;
    });
  }

  /** Commits writes that answer no message. */
  public CompletionStage<List<Long>> commit(Writes writes) {
    return commit(StorageChange.builder().writes(writes).build(), writes);
  }

  /**
   * Records {@code request} as accepted with {@code answer} alone, for a handler that acknowledged
   * it without committing through it; does nothing when it is recorded already or need not be.
   */
  public CompletionStage<Void> record(IncomingRequest request, Reply answer) {
    if (!request.deduplicated() || request.recorded() || !answer.isAck()) {
      return CompletableFuture.completedFuture(null);
    }
    return commit(request, Writes.NONE, answer).thenApply(cursors -> null);
  }

  /**
   * Commits {@code change}; whatever the outcome, everything after the storage's answer runs on a
   * worker, success or failure: the storage's own thread only commits and completes.
   */
  private CompletionStage<List<Long>> commit(StorageChange change, Writes writes) {
    CompletableFuture<List<Long>> done = new CompletableFuture<>();
    storage.get().commit(change).whenCompleteAsync((cursors, failure) -> {
      if (failure != null) {
        done.completeExceptionally(failure instanceof CompletionException && failure.getCause() != null
            ? failure.getCause() : failure);
        return;
      }
      try {
        List<Writes.Append> appends = writes.appends();
        for (int i = 0; i < appends.size(); i++) {
          publish.accept(appends.get(i).address(), appends.get(i).entry().withCursor(cursors.get(i)));
        }
      } finally {
        done.complete(cursors); // durable: a failed push closes that connection, it never fails the commit
      }
    }, workers);
    return done;
  }
}
