package org.esmp.server.store;

import java.time.Clock;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.esmp.api.Address;
import org.esmp.api.MailboxEntry;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.esmp.api.Writes;
import org.esmp.api.spi.Storage;
import org.esmp.api.spi.StorageChange;
import org.esmp.server.federation.OutboxIndex;
import org.esmp.server.mailbox.EncodedEntry;
import org.esmp.server.metrics.ServerMetrics;

/**
 * The one path by which anything is appended to a mailbox: every plugin's {@link PluginStore}
 * and the server's own deliveries commit here. A commit is made durable by the storage, then, on
 * worker threads (never the storage's commit thread, which only commits), its appends are pushed
 * to the connections following those mailboxes, in commit order per mailbox ({@link PushLanes}),
 * and its stage completes.
 *
 * <p>A commit for a message records it as accepted, in the same storage change as its effects,
 * when its type is deduplicated and its answer is an {@code ack}: the storage refuses the change
 * with {@link org.esmp.api.DuplicateException} when the id was recorded already, whoever recorded
 * it. Thread-safe; never blocks.
 */
public final class Commits {

  /** Mailboxes pushed to at once: a few per core, so that one busy mailbox rarely holds up another. */
  private static final int PUSH_LANES = 4 * Runtime.getRuntime().availableProcessors();

  private final Supplier<Storage> storage;
  private final PushLanes lanes;
  private final Clock clock;
  private final Executor workers;
  private final ServerMetrics metrics;
  private final OutboxIndex outbox;

  /** Where an entry just committed goes live: to the connections following its mailbox. */
  @FunctionalInterface
  public interface Publisher {
    /**
     * Pushes {@code entry}, committed at {@code cursor} in {@code address}'s mailbox. Called on a
     * worker, in commit order for each mailbox; the same {@code entry} for every mailbox one commit
     * appended it to.
     */
    void publish(Address address, long cursor, EncodedEntry entry);
  }

  /**
   * @param storage the storage in use, looked up on each commit
   * @param publish pushes an entry just committed to the connections that follow its mailbox
   * @param workers where pushes run and stages complete
   * @param metrics where the commit latency is recorded
   */
  public Commits(Supplier<Storage> storage, Publisher publish, Clock clock, Executor workers, ServerMetrics metrics) {
    this(storage, publish, clock, workers, metrics, OutboxIndex.NONE);
  }

  /**
   * A commit path that also records, in each commit, which addresses of other domains it appended
   * to ({@link OutboxIndex}), and tells the relay once the commit is durable.
   */
  public Commits(Supplier<Storage> storage, Publisher publish, Clock clock, Executor workers, ServerMetrics metrics,
      OutboxIndex outbox) {
    this.outbox = outbox;
    this.storage = storage;
    this.clock = clock;
    this.workers = workers;
    this.metrics = metrics;
    this.lanes = new PushLanes(PUSH_LANES, workers, publish);
  }

  /**
   * Commits {@code writes} as the effects of {@code request}, recording it as accepted with
   * {@code answer} if it is to be (see the class comment).
   *
   * @throws IllegalArgumentException when {@code request} is not one the server made
   */
  public CompletionStage<List<Long>> commit(Request request, Writes writes, Reply answer) {
    return commitServerChange(request, StorageChange.builder().writes(writes), answer);
  }

  /**
   * Commits {@code change}, a change of the server's own (identities: only the server binds keys),
   * as the effect of {@code request}, recording it as {@link #commit(Request, Writes, Reply)} does.
   *
   * @throws IllegalArgumentException when {@code request} is not one the server made
   */
  public CompletionStage<List<Long>> commitServerChange(Request request, StorageChange.Builder change, Reply answer) {
    if (!(request instanceof IncomingRequest incoming)) {
      throw new IllegalArgumentException("not a request the server handed to a plugin: " + request);
    }
    boolean records = incoming.recordsAs(answer);
    if (records) {
      change.accept(incoming.message().id(), clock.millis(), answer.fields());
    }
    return commit(change.build()).thenApply(cursors -> {
      if (records) {
        incoming.markRecorded();
      }
      return cursors;
    });
  }

  /**
   * Commits {@code change}, a change of the server's own that records no message (a registration),
   * completing on a worker as every commit here does.
   */
  public CompletionStage<List<Long>> commitServerChange(StorageChange.Builder change) {
    return commit(change.build());
  }

  /** Commits writes that answer no message. */
  public CompletionStage<List<Long>> commit(Writes writes) {
    return commit(StorageChange.builder().writes(writes).build());
  }

  /**
   * Records {@code request} as accepted with {@code answer} alone, for a handler that acknowledged
   * it without committing through it; does nothing when it is recorded already or need not be.
   */
  public CompletionStage<Void> record(IncomingRequest request, Reply answer) {
    if (!request.recordsAs(answer)) {
      return CompletableFuture.completedFuture(null);
    }
    return commit(request, Writes.NONE, answer).thenApply(cursors -> null);
  }

  /**
   * Commits {@code change}. On the storage's thread only the appends are queued to their push
   * lanes, in commit order; the pushes and everything after the storage's answer, success or
   * failure, run on the workers: the storage's own thread only commits and completes.
   */
  private CompletionStage<List<Long>> commit(StorageChange asked) {
    StorageChange change = outbox.indexed(asked);
    CompletableFuture<List<Long>> done = new CompletableFuture<>();
    long start = System.nanoTime();
    storage.get().commit(change).whenComplete((cursors, failure) -> {
      metrics.committed(System.nanoTime() - start);
      if (failure == null) {
        List<Writes.Append> appends = change.writes().appends();
        EncodedEntry[] entries = shared(appends);
        for (int i = 0; i < appends.size(); i++) {
          lanes.push(appends.get(i).address(), cursors.get(i), entries[i]);
        }
      }
      workers.execute(() -> {
        if (failure != null) {
          done.completeExceptionally(failure instanceof CompletionException && failure.getCause() != null
              ? failure.getCause() : failure);
        } else {
          outbox.committed(change);
          done.complete(cursors);
        }
      });
    });
    return done;
  }

  /**
   * The entries of {@code appends} to push, one {@link EncodedEntry} per distinct entry (by
   * identity): one message appended to a hundred mailboxes is encoded once for all of them, later,
   * on a worker. On the storage's thread: it only allocates.
   */
  private static EncodedEntry[] shared(List<Writes.Append> appends) {
    EncodedEntry[] entries = new EncodedEntry[appends.size()];
    Map<MailboxEntry, EncodedEntry> distinct = null; // made for a commit of several entries only
    for (int i = 0; i < entries.length; i++) {
      MailboxEntry entry = appends.get(i).entry();
      if (i > 0 && entry == appends.get(i - 1).entry()) {
        entries[i] = entries[i - 1]; // the usual case: one entry appended to each recipient in turn
        continue;
      }
      if (distinct == null && i > 0) {
        distinct = new IdentityHashMap<>();
        for (int j = 0; j < i; j++) {
          distinct.put(appends.get(j).entry(), entries[j]);
        }
      }
      entries[i] = distinct == null ? new EncodedEntry(entry) : distinct.computeIfAbsent(entry, EncodedEntry::new);
    }
    return entries;
  }
}
