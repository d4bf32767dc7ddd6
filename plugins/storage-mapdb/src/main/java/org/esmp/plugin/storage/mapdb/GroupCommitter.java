package org.esmp.plugin.storage.mapdb;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.esmp.api.Address;
import org.esmp.api.Ed25519Key;
import org.esmp.api.ConflictException;
import org.esmp.api.DuplicateException;
import org.esmp.api.StorageFailedException;
import org.esmp.api.Writes;
import org.esmp.api.spi.StorageChange;
import org.esmp.api.json.JsonObject;
import org.esmp.plugin.storage.mapdb.CommittedView.Mailbox;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The only writer of the store: one thread that takes every change queued so far (up to
 * {@link #MAX_BATCH_WEIGHT} writes and about {@link #MAX_BATCH_BYTES} bytes of values), applies
 * them, commits once, and then completes their futures in order. A commit costs a disk sync (of
 * the journal, see {@link JournaledVolume}), so batching is where throughput comes from. A trim
 * ({@link Retention}) runs in chunks, each its own commit, between batches.
 *
 * <p>Each change's conditions ({@link StorageChange}) are checked just before it is applied, in
 * queue order, against the open transaction, which holds every change committed and every change
 * of the batch applied before it: this thread is the only writer, so nothing can come between a
 * check and its writes. A change whose condition fails is skipped and fails with its
 * {@link ConflictException} or {@link DuplicateException} once the batch is committed.
 *
 * <p>A batch that fails is rolled back and its futures fail; later batches are served unless the
 * storage failed for good ({@link StorageFailure}: a failed journal write, sync or checkpoint, a
 * failed rollback, this thread breaking), after which every change fails with that
 * {@link StorageFailedException}, without a log line per batch (the server logs the failure once).
 * A batch whose record is too large for the journal is committed in halves, down to the change too
 * large alone, which alone fails. Other failures are logged at most once per second each.
 *
 * <p>{@link #submit} and {@link #trim} are thread-safe and never block; {@link #close} waits for
 * the queue to be committed.
 */
final class GroupCommitter {

  private static final Logger log = LoggerFactory.getLogger(GroupCommitter.class);

  /** Most writes (appends, key changes, accepted ids) one commit takes. */
  static final int MAX_BATCH_WEIGHT = 8192;
  /**
   * Most bytes of values (mailbox entries, accepted records, plugin values) one commit takes, so
   * that a batch of large messages makes a journal record of tens of MiB, not of hundreds. A
   * single change larger than this is committed alone.
   */
  static final long MAX_BATCH_BYTES = 32L << 20;

  private final Store store;
  private final CommittedView view;
  private final Records records;
  private final int maxQueued;
  private final BlockingQueue<Task> queue = new LinkedBlockingQueue<>();
  private final AtomicInteger queuedChanges = new AtomicInteger();
  // Read-held while enqueueing, write-held to close: nothing can be queued behind STOP.
  private final ReadWriteLock closing = new ReentrantReadWriteLock();
  private final Thread thread;
  private final AtomicLong committedChanges = new AtomicLong();
  // Where a batch's time goes, for measurement: writing into the transaction vs db.commit().
  final AtomicLong applyNanos = new AtomicLong();
  final AtomicLong commitNanos = new AtomicLong();
  /** The id the next new mailbox gets; only the commit thread uses it. */
  private long nextAddressId;
  private final StorageFailure failure;
  private final OpenTransaction transaction;
  private final Retention retention;
  private final LogLimiter errors = new LogLimiter(log);
  private volatile boolean closed;

  GroupCommitter(Store store, CommittedView view, Records records, StorageFailure failure, int maxQueued) {
    this.store = store;
    this.failure = failure;
    this.view = view;
    this.records = records;
    this.maxQueued = maxQueued;
    transaction = new OpenTransaction(store, view, failure);
    retention = new Retention(store, view, transaction, failure);
    nextAddressId = view.mailboxes.values().stream().mapToLong(Mailbox::id).max().orElse(0) + 1;
    thread = new Thread(this::run, "storage-mapdb-commit");
    thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  /** Queues {@code change}; the future completes on the commit thread with its cursors. */
  CompletableFuture<List<Long>> submit(StorageChange change) {
    CompletableFuture<List<Long>> future = new CompletableFuture<>();
    ChangeTask task;
    try {
      // Encoding here spreads the JSON work over the callers' threads; a change that cannot be
      // encoded fails alone instead of failing its batch.
      task = ChangeTask.prepare(change, records, future);
    } catch (RuntimeException e) {
      future.completeExceptionally(e);
      return future;
    }
    if (queuedChanges.incrementAndGet() > maxQueued) {
      queuedChanges.decrementAndGet();
      future.completeExceptionally(
          new RejectedExecutionException("storage-mapdb: " + maxQueued + " changes already queued"));
      return future;
    }
    if (!enqueue(task, future)) {
      queuedChanges.decrementAndGet();
    }
    return future;
  }

  /** Queues a trim ({@link Retention}); the future completes with the number of mailbox entries deleted. */
  CompletableFuture<Long> trim(long receivedBefore) {
    CompletableFuture<Long> future = new CompletableFuture<>();
    enqueue(new Retention.Trim(receivedBefore, future), future);
    return future;
  }

  private boolean enqueue(Task task, CompletableFuture<?> future) {
    closing.readLock().lock();
    try {
      if (closed) {
        future.completeExceptionally(new IllegalStateException("storage-mapdb is closed"));
        return false;
      }
      StorageFailedException failed = failure.failed();
      if (failed != null) {
        future.completeExceptionally(failed);
        return false;
      }
      queue.add(task);
      return true;
    } finally {
      closing.readLock().unlock();
    }
  }

  /**
   * Stops taking changes, commits what is queued and closes the store. Idempotent; when called on
   * the commit thread itself (from a future's callback) it does not wait.
   */
  void close() {
    closing.writeLock().lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      queue.add(Stop.STOP);
    } finally {
      closing.writeLock().unlock();
    }
    if (Thread.currentThread() != thread) {
      boolean interrupted = false;
      while (thread.isAlive()) {
        try {
          thread.join();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** How many times the store was committed; package-private for tests and measurement. */
  long dbCommits() {
    return transaction.commits();
  }

  /** Test hook: runs on the commit thread after a batch or trim chunk is written, before it is committed. */
  void beforeCommit(Runnable hook) {
    transaction.beforeCommit = hook;
  }

  /** How many changes were committed. */
  long committedChanges() {
    return committedChanges.get();
  }

  private void run() {
    ArrayDeque<Retention.Trim> trims = new ArrayDeque<>();
    List<ChangeTask> batch = new ArrayList<>();
    try {
      boolean stopping = false;
      while (!stopping) {
        Task next = trims.isEmpty() ? takeUninterruptibly() : queue.poll();
        int weight = 0;
        long bytes = 0;
        while (next != null) {
          if (next == Stop.STOP) {
            stopping = true;
            break;
          }
          if (next instanceof Retention.Trim trim) {
            trims.add(trim);
          } else {
            ChangeTask change = (ChangeTask) next;
            batch.add(change);
            weight += change.weight();
            bytes += change.bytes;
          }
          next = weight < MAX_BATCH_WEIGHT && bytes < MAX_BATCH_BYTES ? queue.poll() : null;
        }
        if (!batch.isEmpty()) {
          queuedChanges.addAndGet(-batch.size());
          commitBatch(batch);
          batch.clear();
        }
        if (!trims.isEmpty() && !stopping && retention.trimChunk(trims.peek())) {
          trims.poll();
        }
      }
      for (Retention.Trim trim : trims) {
        trim.future.completeExceptionally(new IllegalStateException("storage-mapdb closed before the trim ended"));
      }
    } catch (RuntimeException | Error e) {
      // A bug, not a disk: worth its stack trace, once (the server logs the failure at ERROR).
      log.warn("The storage commit thread broke", e);
      StorageFailedException failure;
      // Under the lock: a task is either queued before this, and failed below, or refused.
      closing.writeLock().lock();
      try {
        failure = this.failure.fail("the commit thread broke (" + e + ")", e);
      } finally {
        closing.writeLock().unlock();
      }
      batch.forEach(t -> t.future.completeExceptionally(failure));
      trims.forEach(t -> t.future.completeExceptionally(failure));
      // Tasks queued from now on fail in enqueue; those already queued fail here.
      for (Task t; (t = queue.poll()) != null; ) {
        if (t instanceof ChangeTask c) {
          c.future.completeExceptionally(failure);
        } else if (t instanceof Retention.Trim tt) {
          tt.future.completeExceptionally(failure);
        }
      }
    } finally {
      try {
        store.close();
        log.info("Closed storage file {}", store.file);
      } catch (RuntimeException | Error e) {
        log.warn("Closing storage file {} failed: {}", store.file, e.toString());
      }
    }
  }

  private Task takeUninterruptibly() {
    while (true) {
      try {
        return queue.take();
      } catch (InterruptedException e) {
        // Only close() ends this thread, after committing what is queued.
      }
    }
  }

  private void commitBatch(List<ChangeTask> batch) {
    StorageFailedException failed = failure.failed();
    if (failed != null) {
      failAll(batch, failed);
      return;
    }
    Map<Address, List<Ed25519Key>> batchKeys = new HashMap<>();
    Map<Address, Mailbox> batchMailboxes = new HashMap<>();
    Map<Long, Set<Long>> batchTimes = new HashMap<>();
    long firstNewAddressId = nextAddressId;
    List<List<Long>> cursors = new ArrayList<>(batch.size());
    RuntimeException[] refusals = new RuntimeException[batch.size()];
    long started = System.nanoTime();
    try {
      for (int i = 0; i < batch.size(); i++) {
        ChangeTask task = batch.get(i);
        refusals[i] = refusal(task, batchKeys);
        if (refusals[i] != null) {
          cursors.add(null);
          continue;
        }
        cursors.add(apply(task, batchKeys, batchMailboxes, batchTimes));
        view.values.apply(task.change);
      }
      // Once per millisecond and batch, not per id.
      for (Map.Entry<Long, Set<Long>> e : batchTimes.entrySet()) {
        if (e.getValue().isEmpty()) {
          continue; // its only id was accepted again later in the batch
        }
        Set<Long> prefixes = new LinkedHashSet<>();
        long[] stored = store.acceptedByTime.get(e.getKey());
        if (stored != null) {
          Arrays.stream(stored).forEach(prefixes::add);
        }
        prefixes.addAll(e.getValue());
        store.acceptedByTime.put(e.getKey(), prefixes.stream().mapToLong(Long::longValue).toArray());
      }
      // Once per mailbox and batch, not per entry.
      for (Mailbox mailbox : batchMailboxes.values()) {
        store.lastCursors.put(mailbox.id(), mailbox.lastCursor());
      }
      long applied = System.nanoTime();
      applyNanos.addAndGet(applied - started);
      transaction.commit();
      commitNanos.addAndGet(System.nanoTime() - applied);
    } catch (RuntimeException | Error e) {
      nextAddressId = firstNewAddressId;
      transaction.rollback();
      clearPending(batch);
      failed = failure.failed();
      RecordTooLargeException tooLarge = causeOf(e, RecordTooLargeException.class);
      if (failed != null) {
        failAll(batch, failed);
      } else if (tooLarge != null && batch.size() > 1) {
        // Which change made it too large is unknown: halves, each committed on its own.
        int half = batch.size() / 2;
        commitBatch(new ArrayList<>(batch.subList(0, half)));
        commitBatch(new ArrayList<>(batch.subList(half, batch.size())));
      } else if (tooLarge != null) {
        errors.warn("A change refused: " + tooLarge.getMessage(), null);
        failAll(batch, tooLarge);
      } else {
        errors.error("Storage commit of a batch failed, rolled back: " + e, e);
        failAll(batch, e);
      }
      return;
    }
    batchKeys.forEach(view::publishKeys);
    view.mailboxes.putAll(batchMailboxes);
    clearPending(batch);
    committedChanges.addAndGet(batch.size());
    for (int i = 0; i < batch.size(); i++) {
      if (refusals[i] != null) {
        batch.get(i).future.completeExceptionally(refusals[i]);
      } else {
        batch.get(i).future.complete(cursors.get(i));
      }
    }
  }

  /**
   * Why {@code task}'s change must not be applied, checked against the open transaction and the
   * key changes of the batch so far; {@code null} when every condition holds.
   */
  private RuntimeException refusal(ChangeTask task, Map<Address, List<Ed25519Key>> batchKeys) {
    StorageChange change = task.change;
    for (Writes.Expect expect : change.writes().expectations()) {
      if (!view.values.holds(expect)) {
        return new ConflictException("the value of " + expect.space() + " " + expect.key() + " changed");
      }
    }
    for (StorageChange.KeysExpected expected : change.expectedKeys()) {
      if (!keysInBatch(expected.address(), batchKeys).equals(expected.keys())) {
        return new ConflictException("the keys of " + expected.address() + " changed");
      }
    }
    for (StorageChange.KeyBinding bind : change.bindKeys()) {
      Address owner = ownerInBatch(bind.key(), batchKeys);
      if (owner != null && !owner.equals(bind.address())
          && !change.unbindKeys().contains(new StorageChange.KeyBinding(owner, bind.key()))) {
        return new ConflictException("the key is bound to another address");
      }
    }
    if (change.accepted().isPresent()) {
      StorageChange.Accepted accepted = change.accepted().get();
      byte[] bucket = store.accepted.get(Keys.idPrefix(accepted.id()));
      if (bucket != null) {
        Optional<JsonObject> answer = records.acceptedAnswer(bucket, Keys.idBytes(accepted.id()));
        if (answer.isPresent()) {
          return new DuplicateException(accepted.id(), answer.get());
        }
      }
    }
    return null;
  }

  /** The address {@code key} is bound to after the batch so far, or null. */
  private Address ownerInBatch(Ed25519Key key, Map<Address, List<Ed25519Key>> batchKeys) {
    for (Map.Entry<Address, List<Ed25519Key>> e : batchKeys.entrySet()) {
      if (e.getValue().contains(key)) {
        return e.getKey();
      }
    }
    Address committed = view.addressOf(key).orElse(null);
    return committed != null && keysInBatch(committed, batchKeys).contains(key) ? committed : null;
  }

  /**
   * Writes one change into the open transaction, except its time-index entry, which goes into
   * {@code batchTimes}; returns the cursors of its appends.
   */
  private List<Long> apply(
      ChangeTask task,
      Map<Address, List<Ed25519Key>> batchKeys,
      Map<Address, Mailbox> batchMailboxes,
      Map<Long, Set<Long>> batchTimes) {
    StorageChange change = task.change;
    // Unbinding first lets one change move a key from one address to another.
    for (StorageChange.KeyBinding unbind : change.unbindKeys()) {
      List<Ed25519Key> keys = new ArrayList<>(keysInBatch(unbind.address(), batchKeys));
      if (keys.remove(unbind.key())) {
        writeKeys(unbind.address(), keys, batchKeys);
      }
    }
    for (StorageChange.KeyBinding bind : change.bindKeys()) {
      List<Ed25519Key> keys = new ArrayList<>(keysInBatch(bind.address(), batchKeys));
      if (!keys.contains(bind.key())) {
        keys.add(bind.key());
        writeKeys(bind.address(), keys, batchKeys);
      }
    }
    if (change.accepted().isPresent()) {
      StorageChange.Accepted accepted = change.accepted().get();
      // Pending before it is in the map: see CommittedView.
      view.pendingIds.add(accepted.id().hex());
      long prefix = Keys.idPrefix(accepted.id());
      byte[] previous = store.accepted.put(prefix, task.acceptedValue);
      if (previous != null) {
        mergeAccepted(prefix, previous, task.acceptedValue, batchTimes);
      }
      batchTimes.computeIfAbsent(accepted.acceptedAt(), t -> new LinkedHashSet<>()).add(prefix);
    }
    List<Long> cursors = new ArrayList<>(change.writes().appends().size());
    for (int i = 0; i < change.writes().appends().size(); i++) {
      Address address = change.writes().appends().get(i).address();
      Mailbox mailbox = batchMailboxes.get(address);
      if (mailbox == null) {
        mailbox = view.mailbox(address);
      }
      if (mailbox == null) {
        mailbox = new Mailbox(nextAddressId++, 0);
        store.addresses.put(address.toString(), mailbox.id());
      }
      long cursor = mailbox.lastCursor() + 1;
      store.mailbox.put(Keys.mailbox(mailbox.id(), cursor), task.entryBytes[i]);
      batchMailboxes.put(address, new Mailbox(mailbox.id(), cursor));
      cursors.add(cursor);
    }
    return List.copyOf(cursors);
  }

  /**
   * Puts the record just written back together with the other records of its bucket: another id
   * with the same prefix, or an earlier record of the same id (which it replaces, with its time
   * key). Rare: ids are SHA-256 digests, and a resend is answered from the stored record.
   */
  private void mergeAccepted(long prefix, byte[] previous, byte[] written, Map<Long, Set<Long>> batchTimes) {
    Records.Accepted record = Records.acceptedRecords(written).get(0);
    List<Records.Accepted> bucket = new ArrayList<>(Records.acceptedRecords(previous));
    int same = 0;
    while (same < bucket.size() && !bucket.get(same).isFor(record.id())) {
      same++;
    }
    if (same == bucket.size()) {
      bucket.add(record);
    } else {
      long replacedAt = bucket.set(same, record).acceptedAt();
      if (bucket.stream().noneMatch(a -> a.acceptedAt() == replacedAt)) {
        // Its time entry is in this batch's, or already stored.
        Set<Long> inBatch = batchTimes.get(replacedAt);
        if (inBatch != null) {
          inBatch.remove(prefix);
        }
        unindexTime(replacedAt, prefix);
      }
    }
    store.accepted.put(prefix, Records.acceptedBucket(bucket));
  }

  private List<Ed25519Key> keysInBatch(Address address, Map<Address, List<Ed25519Key>> batchKeys) {
    List<Ed25519Key> keys = batchKeys.get(address);
    return keys != null ? keys : view.keysOf(address);
  }

  private void writeKeys(Address address, List<Ed25519Key> keys, Map<Address, List<Ed25519Key>> batchKeys) {
    if (keys.isEmpty()) {
      store.identities.remove(address.toString());
    } else {
      store.identities.put(address.toString(), CommittedView.encodeKeys(keys));
    }
    batchKeys.put(address, keys);
  }

  /** Removes {@code prefix} from the time-index entry of {@code acceptedAt}. */
  private void unindexTime(long acceptedAt, long prefix) {
    long[] stored = store.acceptedByTime.get(acceptedAt);
    if (stored == null) {
      return;
    }
    long[] kept = Arrays.stream(stored).filter(p -> p != prefix).toArray();
    if (kept.length == 0) {
      store.acceptedByTime.remove(acceptedAt);
    } else if (kept.length < stored.length) {
      store.acceptedByTime.put(acceptedAt, kept);
    }
  }

  private void clearPending(List<ChangeTask> batch) {
    for (ChangeTask task : batch) {
      task.change.accepted().ifPresent(a -> view.pendingIds.remove(a.id().hex()));
    }
    view.values.clearPending();
  }

  /** {@code e} or its first cause of {@code type}, or null. */
  private static <T extends Throwable> T causeOf(Throwable e, Class<T> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
    }
    return null;
  }

  private static void failAll(List<ChangeTask> batch, Throwable cause) {
    for (ChangeTask task : batch) {
      task.future.completeExceptionally(cause);
    }
  }

  /** What the commit thread takes from its queue. */
  sealed interface Task permits ChangeTask, Retention.Trim, Stop {}

  private enum Stop implements Task {
    STOP
  }
}
