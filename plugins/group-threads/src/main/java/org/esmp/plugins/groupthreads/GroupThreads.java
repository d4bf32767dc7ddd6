package org.esmp.plugins.groupthreads;

import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.esmp.api.Address;
import org.esmp.api.Delivery;
import org.esmp.api.ErrorCode;
import org.esmp.api.MailboxEntry;
import org.esmp.api.MessageHandler;
import org.esmp.api.RejectedException;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.esmp.api.ServerContext;
import org.esmp.api.SignedMessage;
import org.esmp.api.ConflictException;
import org.esmp.api.Store;
import org.esmp.api.Writes;
import org.esmp.api.group.GroupChange;
import org.esmp.api.group.GroupLedger;
import org.esmp.api.group.GroupRule;
import org.esmp.api.group.GroupState;
import org.esmp.api.json.JsonObject;
import org.pf4j.Extension;

/**
 * Group threads (ESMP/1 section 6): the {@link GroupLedger} that numbers each group's messages and
 * system events {@code seq} 1, 2, 3 … without gaps; the {@link Delivery} of group messages (content
 * types with a {@code group_id}); and the session types {@code history} and {@code group_info}.
 *
 * <p><b>Order and threads.</b> Appends to one group run one at a time, in the order
 * {@link #append} was called, through a per-group asynchronous queue: no thread waits for a commit.
 * An append's rule sees the state the previous append committed, and its {@code seq} is that
 * state's {@code lastSeq} + 1; a rejected rule or a failed commit leaves the state unchanged, so
 * the next append takes the same {@code seq} and the thread has no gap. Appends to different groups
 * run concurrently. The first append of an idle group runs on the caller's thread; one that waited
 * runs on this plugin's small pool, never on the storage's commit thread. Every method is
 * thread-safe and never blocks.
 *
 * <p><b>Several writers.</b> That queue is a fast path within this instance only. What keeps
 * {@code seq} gapless and unique when several instances append to one group (two servers on one
 * storage, in cluster mode) is the commit's condition: the entry of the new {@code seq} must not
 * exist yet (insert-if-absent). An append that loses the race fails with
 * {@link ConflictException}; it then reads the group's state from the storage, runs its rule again
 * on it, and commits under the next {@code seq}, up to {@value #MAX_ATTEMPTS} times.
 *
 * <p><b>State.</b> Group states live in the storage (space {@value ThreadRecords#GROUPS}), thread
 * entries beside them (space {@value ThreadRecords#THREAD}, kept entries: the storage keeps each
 * message once, and the thread entry and the members' mailbox entries refer to it); both are
 * written in the same atomic
 * commit as the accepted-message record and the members' mailbox entries. The states of groups
 * recently appended to are cached in memory, up to {@value #DEFAULT_CACHE_BYTES} bytes (estimated,
 * so that a few huge groups cannot take the heap). Only an append writes the cache, after
 * its commit and before the group's next append starts, so an append never sees an older state
 * than the last one committed; readers ({@link #group}, {@code history}, {@code group_info}) see
 * the cache or, for other groups, the storage.
 *
 * <p>Members of other domains are kept in the group but get no mailbox entry: federation (section
 * 8) is not implemented.
 */
@Extension
public class GroupThreads implements GroupLedger, Delivery, MessageHandler {

  /** Entries per {@code history} answer when the client names no limit. */
  static final int DEFAULT_LIMIT = 50;
  /** Most entries per {@code history} answer; a larger limit is taken as this. */
  static final int MAX_LIMIT = 500;
  /**
   * Most bytes of entries per {@code history} answer: 500 messages of up to a frame each would make
   * one answer of tens of MiB. Past it the answer stops early (always with one entry at least) and
   * says {@code "more":true}; the client pages on with {@code before}.
   */
  static final int MAX_HISTORY_BYTES = 4 * 1024 * 1024;
  /** Thread entries read from the storage at a time for {@code history}. */
  static final int HISTORY_CHUNK = 64;
  /** Attempts of one append that keeps losing races to other writers of its group. */
  static final int MAX_ATTEMPTS = 1000;
  /** Bytes of group states kept in memory (estimated: see {@link #estimatedBytes}). */
  static final long DEFAULT_CACHE_BYTES = 32L << 20;

  private final ServerContext context;
  private final KeyedQueue queue;
  private final Executor executor;
  private final long cacheBytes;
  /** The estimated bytes of the states in {@link #cache}; guarded by {@code cache}'s writers' lock. */
  private long cachedBytes; // guarded by cacheLock
  private final Object cacheLock = new Object();
  /** Committed states of groups recently appended to; written only by appends, in their group's turn. */
  private final Map<String, GroupState> cache = new ConcurrentHashMap<>();
  private final ThreadQueries queries;

  public GroupThreads(ServerContext context) {
    this(context, defaultExecutor(), DEFAULT_CACHE_BYTES);
  }

  /**
   * @param executor where an append that waited for its group's previous one runs
   * @param cacheBytes how many bytes of group states to keep in memory, estimated
   */
  GroupThreads(ServerContext context, Executor executor, long cacheBytes) {
    this.context = context;
    this.queue = new KeyedQueue(executor);
    this.executor = executor;
    this.cacheBytes = cacheBytes;
    this.queries = new ThreadQueries(context, this::group);
  }

  /** Daemon threads that end when idle, so a stopped plugin leaves none behind. */
  private static Executor defaultExecutor() {
    AtomicInteger count = new AtomicInteger();
    int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
    ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
        task -> {
          Thread thread = new Thread(task, "group-threads-" + count.incrementAndGet());
          thread.setDaemon(true);
          return thread;
        });
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }

  // ---- GroupLedger ----

  @Override
  public Optional<GroupState> group(String groupId) {
    GroupState cached = cache.get(groupId);
    if (cached != null) {
      return Optional.of(cached);
    }
    return stored(groupId);
  }

  /** The state of {@code groupId} as committed in the storage. */
  private Optional<GroupState> stored(String groupId) {
    return store().get(ThreadRecords.GROUPS, groupId).map(stored -> ThreadRecords.readState(context.json(), stored));
  }

  @Override
  public CompletionStage<Reply> append(Request request, GroupRule rule) {
    Optional<String> groupId = request.message().groupId();
    if (groupId.isEmpty()) {
      return CompletableFuture.failedFuture(new RejectedException(ErrorCode.BAD_FIELD, "group_id is required"));
    }
    return queue.submit(groupId.get(), () -> appendInTurn(groupId.get(), request, rule));
  }

  /** One append, in its group's turn: nothing else appends to this group until the stage completes. */
  private CompletionStage<Reply> appendInTurn(String groupId, Request request, GroupRule rule) {
    return attempt(groupId, request, rule, group(groupId), 1);
  }

  /**
   * One attempt of an append on {@code current}; after a conflict, the next attempt runs on this
   * plugin's pool with the state read from the storage.
   */
  private CompletionStage<Reply> attempt(String groupId, Request request, GroupRule rule,
      Optional<GroupState> current, int attempt) {
    return commit(groupId, request, rule, current).handle((reply, failure) -> {
      Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
      if (cause instanceof ConflictException && attempt < MAX_ATTEMPTS) {
        forget(groupId);
        return CompletableFuture.supplyAsync(() -> stored(groupId), executor)
            .thenCompose(fresh -> attempt(groupId, request, rule, fresh, attempt + 1));
      }
      return failure == null ? CompletableFuture.completedFuture(reply) : CompletableFuture.<Reply>failedFuture(cause);
    }).thenCompose(next -> next);
  }

  /** Applies {@code rule} to {@code current} and commits the entry under the next seq, if still free. */
  private CompletionStage<Reply> commit(String groupId, Request request, GroupRule rule, Optional<GroupState> current) {
    GroupChange change = rule.apply(current);
    GroupState proposed = change.after();
    if (!proposed.groupId().equals(groupId)) {
      throw new IllegalStateException("a group rule returned the state of group " + proposed.groupId()
          + " for an entry of group " + groupId);
    }
    long seq = current.map(GroupState::lastSeq).orElse(0L) + 1;
    GroupState after = new GroupState(groupId, proposed.name(), proposed.policy(), proposed.members(),
        proposed.admins(), seq);

    SignedMessage message = request.message();
    MailboxEntry entry = new MailboxEntry(0, message.id(), sender(request), request.receivedAt(), message.fields(),
        Optional.of(groupId), OptionalLong.of(seq));
    Reply ack = Reply.ack(JsonObject.builder().put("seq", seq).build());
    String threadKey = ThreadRecords.threadKey(groupId, seq);
    Writes.Builder writes = Writes.builder()
        .expectAbsent(ThreadRecords.THREAD, threadKey) // the seq is still free: no other writer took it
        // The message is stored once, for the thread and every member's mailbox entry.
        .keep(ThreadRecords.THREAD, threadKey, entry)
        .put(ThreadRecords.GROUPS, groupId, ThreadRecords.writeState(context.json(), after));
    for (Address recipient : new LinkedHashSet<>(change.recipients())) {
      if (context.hasMailbox(recipient)) {
        writes.append(recipient, entry);
      }
    }
    return store().commit(request, writes.build(), ack).thenApply(cursors -> {
      remember(after);
      return ack;
    });
  }

  /** Drops the cached state of {@code groupId}: another writer changed the group. */
  private void forget(String groupId) {
    synchronized (cacheLock) {
      GroupState previous = cache.remove(groupId);
      if (previous != null) {
        cachedBytes -= estimatedBytes(previous);
      }
    }
  }

  /** How many groups have an append running or queued; for tests. */
  int activeGroups() {
    return queue.activeKeys();
  }

  /**
   * Caches a state just committed, and evicts other groups' states until the cache is within its
   * byte budget: a few huge groups take the room of many small ones. A state larger than the whole
   * budget is not cached (its group's appends read it from the storage).
   */
  private void remember(GroupState state) {
    long bytes = estimatedBytes(state);
    synchronized (cacheLock) {
      GroupState previous = bytes > cacheBytes ? cache.remove(state.groupId()) : cache.put(state.groupId(), state);
      if (previous != null) {
        cachedBytes -= estimatedBytes(previous);
      }
      if (bytes > cacheBytes) {
        return;
      }
      cachedBytes += bytes;
      Iterator<Map.Entry<String, GroupState>> entries = cache.entrySet().iterator();
      while (cachedBytes > cacheBytes && entries.hasNext()) {
        Map.Entry<String, GroupState> entry = entries.next();
        if (!entry.getKey().equals(state.groupId())) {
          cachedBytes -= estimatedBytes(entry.getValue());
          entries.remove(); // the storage has it: the group's next append reads it from there
        }
      }
    }
  }

  /** Roughly the heap a state takes: its strings (two bytes a char) and per-element overheads. */
  static long estimatedBytes(GroupState state) {
    long bytes = 256 + 2L * state.groupId().length() + 2L * state.name().map(String::length).orElse(0);
    for (Address member : state.members()) {
      bytes += 96 + 2L * member.toString().length();
    }
    for (Address admin : state.admins()) {
      bytes += 96 + 2L * admin.toString().length();
    }
    return bytes;
  }

  /** The estimated bytes of cached states; for tests. */
  long cachedBytes() {
    synchronized (cacheLock) {
      return cachedBytes;
    }
  }

  // ---- Delivery ----

  @Override
  public Scope scope() {
    return Scope.GROUP;
  }

  /** A content message with a {@code group_id}: appended to the thread and given to every member. */
  @Override
  public CompletionStage<Reply> deliver(Request request, boolean ephemeral) {
    Address sender = sender(request);
    if (ephemeral) {
      String groupId = request.message().groupId().orElseThrow(
          () -> new RejectedException(ErrorCode.BAD_FIELD, "group_id is required"));
      GroupState state = memberOf(group(groupId), sender);
      List<Address> local = state.members().stream().filter(context::hasMailbox).toList();
      context.mailboxes().deliverLive(request, local);
      return CompletableFuture.completedFuture(Reply.ack());
    }
    return append(request, current -> {
      GroupState state = memberOf(current, sender);
      return new GroupChange(state, state.members());
    });
  }

  // ---- MessageHandler: history, group_info ----

  @Override
  public Set<String> types() {
    return Set.of("history", "group_info");
  }

  /** Both are queries: processed every time, {@code ts} optional (ESMP/1 section 7). */
  @Override
  public Set<String> sessionTypes() {
    return Set.of("history", "group_info");
  }

  @Override
  public CompletionStage<Reply> handle(Request request) {
    return CompletableFuture.completedFuture(switch (request.message().type()) {
      case "history" -> queries.history(request);
      case "group_info" -> queries.groupInfo(request);
      default -> throw new IllegalArgumentException("not a type of this handler: " + request.message().type());
    });
  }

  /** The state of an existing group of which {@code address} is a member; else the protocol's refusal. */
  static GroupState memberOf(Optional<GroupState> group, Address address) {
    GroupState state = group.orElseThrow(() -> new RejectedException(ErrorCode.NO_SUCH_GROUP, "no such group"));
    if (!state.isMember(address)) {
      throw new RejectedException(ErrorCode.NOT_MEMBER, "the sender is not a member of the group");
    }
    return state;
  }

  static Address sender(Request request) {
    return request.sender().orElseThrow(() -> new IllegalStateException("a group message without a sender address"));
  }

  private Store store() {
    return context.store();
  }
}
