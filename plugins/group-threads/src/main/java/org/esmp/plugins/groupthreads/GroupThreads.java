package org.esmp.plugins.groupthreads;

import java.util.ArrayList;
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
import java.util.concurrent.atomic.AtomicLong;
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
import org.esmp.api.Stored;
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
 * {@link #append} was called, through a per-group asynchronous queue, but an append's turn ends
 * once its commit is handed to the storage, not once it is durable: the next append of the group
 * builds on the state the previous one will leave, so a busy group's commits go to the storage
 * back to back, several in one batch, instead of one per disk sync. Each commit is conditional on
 * the group's state being the one it built on (compare-and-set of the stored state, or
 * insert-if-absent for a new group) and on its {@code seq} being free; the storage applies commits
 * in the order handed over, so when one fails (a rejected rule commits nothing; a storage failure
 * or a race lost does), every commit built on it fails its condition too, and each is retried as
 * below: the thread never has a gap. Appends to different groups run concurrently. The first
 * append of an idle group runs on the caller's thread; one that waited, and every retry, runs on
 * this plugin's small pool, never on the storage's commit thread. Every method is thread-safe and
 * never blocks.
 *
 * <p><b>Several writers.</b> That queue is a fast path within this instance only. What keeps
 * {@code seq} gapless and unique when several instances append to one group (two servers on one
 * storage, in cluster mode) is the commit's conditions. An append that loses fails with
 * {@link ConflictException}; it then reads the group's state from the storage (unless appends of
 * this instance are still in flight, whose state it then builds on), runs its rule again, and
 * commits under the next {@code seq}, up to {@value #MAX_ATTEMPTS} times.
 *
 * <p><b>State.</b> Group states live in the storage (space {@value ThreadRecords#GROUPS}), thread
 * entries beside them (space {@value ThreadRecords#THREAD}, kept entries: the storage keeps each
 * message once, and the thread entry and the members' mailbox entries refer to it); both are
 * written in the same atomic commit as the accepted-message record and the members' mailbox
 * entries. The states of groups recently appended to are cached in memory, up to
 * {@value #DEFAULT_CACHE_BYTES} bytes (estimated, so that a few huge groups cannot take the heap),
 * once committed: readers ({@link #group}, {@code history}, {@code group_info}) see committed
 * states only, from the cache or the storage. The states of appends in flight are kept apart
 * ({@code tails}) for the group's next appends only, until their commits end.
 *
 * <p>Members of other domains get their entries through their servers: appended, when a federation
 * plugin runs ({@link ServerContext#relays}), to their mailboxes on this server, which the plugin
 * relays (ESMP/1 section 8).
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
  /** Committed states of groups recently appended to, with their stored bytes; written only by appends. */
  private final Map<String, Known> cache = new ConcurrentHashMap<>();
  /**
   * Per group with appends in flight: the state its last append handed to the storage will leave.
   * The group's next append builds on it.
   */
  private final Map<String, Tail> tails = new ConcurrentHashMap<>();
  /** Per group with appends in flight or waiting to be retried: see {@link GroupOrder}. */
  private final Map<String, GroupOrder> orders = new ConcurrentHashMap<>();
  /** Numbers the appends in the order they arrive. */
  private final AtomicLong arrivals = new AtomicLong();
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

  /** A group's state with its bytes as stored: what a commit built on it expects to find. */
  private record Known(GroupState state, byte[] stored) {}

  @Override
  public Optional<GroupState> group(String groupId) {
    Known cached = cache.get(groupId);
    if (cached != null) {
      return Optional.of(cached.state());
    }
    return stored(groupId).map(Known::state);
  }

  /**
   * {@inheritDoc}
   *
   * <p>Here: read from the storage, not the cache, a page of space {@value ThreadRecords#GROUPS}.
   */
  @Override
  public List<GroupState> groups(String after, int limit) {
    if (limit <= 0) {
      return List.of();
    }
    // Group ids are [A-Za-z0-9_-]: every one sorts below '~'; NUL is the first key after `after`.
    List<Stored> page = store().scan(ThreadRecords.GROUPS, after + '\0', "~", limit);
    List<GroupState> groups = new ArrayList<>(page.size());
    for (Stored stored : page) {
      groups.add(ThreadRecords.readState(context.json(), stored.value()));
    }
    return groups;
  }

  /** The state of {@code groupId} as committed in the storage. */
  private Optional<Known> stored(String groupId) {
    return store().get(ThreadRecords.GROUPS, groupId)
        .map(stored -> new Known(ThreadRecords.readState(context.json(), stored), stored));
  }

  @Override
  public CompletionStage<Reply> append(Request request, GroupRule rule) {
    Optional<String> groupId = request.message().groupId();
    if (groupId.isEmpty()) {
      return CompletableFuture.failedFuture(new RejectedException(ErrorCode.BAD_FIELD, "group_id is required"));
    }
    Attempt append = new Attempt(request, rule, arrivals.incrementAndGet());
    queue.submit(groupId.get(), () -> inTurn(groupId.get(), append));
    return append.result;
  }

  /**
   * In the group's turn: hands the storage every append waiting to be retried that arrived before
   * {@code own}, in the order they arrived, then {@code own} (none: only the retries). The turn
   * ends once they are handed over; each one's result completes once it is durable or failed.
   */
  private CompletionStage<Void> inTurn(String groupId, Attempt own) {
    while (true) {
      Attempt next = locked(groupId, order -> {
        Map.Entry<Long, Attempt> first = order.retries.firstEntry();
        return first != null && (own == null || first.getKey() < own.arrival) ? order.retries.pollFirstEntry().getValue() : null;
      });
      if (next != null) {
        handOver(groupId, next, true);
      } else if (own == null || handOver(groupId, own, false)) {
        return CompletableFuture.completedFuture(null);
      }
    }
  }

  /**
   * Applies {@code append}'s rule to the state it builds on, and hands the storage the entry under
   * the next seq, on condition that the group's state is still that one and the seq free; returns
   * false (handing nothing over) when a retry of an append that arrived before it waits.
   *
   * @param fresh whether the state must come from the storage (after a race lost) unless appends
   *     of this instance are in flight
   */
  private boolean handOver(String groupId, Attempt append, boolean fresh) {
    while (true) {
      Tail tail = tails.get(groupId);
      Known base = tail == null ? null : tail.known();
      try {
        if (base == null && !fresh) {
          base = cache.get(groupId);
        }
        if (base == null) {
          base = stored(groupId).orElse(null);
        }
      } catch (RuntimeException e) {
        append.result.completeExceptionally(e);
        return true;
      }
      Known read = base;
      // Under the group's lock: no failure may move appends to the retries, nor change the tail,
      // between the check and the hand-over.
      Boolean handed = locked(groupId, order -> {
        Map.Entry<Long, Attempt> waiting = order.retries.firstEntry();
        if (waiting != null && waiting.getKey() < append.arrival) {
          if (append.attempt > 1) {
            order.retries.put(append.arrival, append); // after the earlier one, in its place again
          }
          return false;
        }
        if (tails.get(groupId) != tail) {
          return null; // another append became the tail meanwhile: read again
        }
        commit(groupId, order, append, read, tail == null ? null : tail.by());
        return true;
      });
      if (handed != null) {
        return handed;
      }
    }
  }

  /**
   * Builds {@code append} on {@code base} (null: no such group), the state {@code parent} leaves
   * (null: a committed state), and hands its commit to the storage. Holding {@code order}'s lock.
   */
  private void commit(String groupId, GroupOrder order, Attempt append, Known base, Handed parent) {
    Optional<GroupState> current = Optional.ofNullable(base).map(Known::state);
    GroupChange change;
    try {
      change = append.rule.apply(current);
    } catch (RuntimeException e) {
      append.result.completeExceptionally(e); // a rule that refuses: nothing is committed
      return;
    }
    GroupState proposed = change.after();
    if (!proposed.groupId().equals(groupId)) {
      append.result.completeExceptionally(new IllegalStateException("a group rule returned the state of group "
          + proposed.groupId() + " for an entry of group " + groupId));
      return;
    }
    long seq = current.map(GroupState::lastSeq).orElse(0L) + 1;
    GroupState after = new GroupState(groupId, proposed.name(), proposed.policy(), proposed.members(),
        proposed.admins(), seq);
    Known next = new Known(after, ThreadRecords.writeState(context.json(), after, append.request.message().id()));

    Request request = append.request;
    SignedMessage message = request.message();
    MailboxEntry entry = new MailboxEntry(0, message.id(), sender(request), request.receivedAt(), message.fields(),
        Optional.of(groupId), OptionalLong.of(seq));
    Reply ack = Reply.ack(JsonObject.builder().put("seq", seq).build());
    String threadKey = ThreadRecords.threadKey(groupId, seq);
    Writes.Builder writes = Writes.builder()
        .expectAbsent(ThreadRecords.THREAD, threadKey); // the seq is still free: no other writer took it
    if (base == null) {
      writes.expectAbsent(ThreadRecords.GROUPS, groupId); // nobody created the group meanwhile
    } else {
      writes.expect(ThreadRecords.GROUPS, groupId, base.stored()); // the state built on is still the group's
    }
    // The message is stored once, for the thread and every member's mailbox entry.
    writes.keep(ThreadRecords.THREAD, threadKey, entry).put(ThreadRecords.GROUPS, groupId, next.stored());
    for (Address recipient : new LinkedHashSet<>(change.recipients())) {
      // A member of another domain gets it through its server: kept in the outbox, relayed.
      if (context.hasMailbox(recipient) || context.relays(recipient)) {
        writes.append(recipient, entry);
      }
    }
    Handed handed = new Handed(append, parent);
    Tail tail = new Tail(next, handed);
    tails.put(groupId, tail); // the group's next append builds on this one
    order.inFlight.add(handed);
    CompletionStage<?> durable;
    try {
      durable = store().commit(request, writes.build(), ack);
    } catch (RuntimeException e) {
      durable = CompletableFuture.failedFuture(e);
    }
    durable.whenComplete((ignored, failure) -> completed(groupId, handed, tail, ack, failure));
  }

  /**
   * The commit {@code handed} (leaving {@code tail}) ended. A race lost to another writer ({@link
   * ConflictException}) retries it, and with it every append of this instance built on it since
   * (each fails its condition too): all of them go back, in the order they arrived, before any
   * append that arrives later.
   */
  private void completed(String groupId, Handed handed, Tail tail, Reply ack, Throwable failure) {
    Attempt append = handed.append;
    if (failure == null) {
      // Cached first, then no longer a tail: an append between the two would otherwise find
      // neither, build on an older state, lose its condition and be retried.
      remember(tail.known());
      tails.remove(groupId, tail);
      locked(groupId, order -> {
        handed.parent = null; // those built on it keep no chain of ended ones
        if (!order.inFlight.remove(handed)) {
          order.retries.remove(append.arrival, append); // held after all (its base did): no retry
        }
        return null;
      });
      append.result.complete(ack);
      return;
    }
    Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    boolean retry = locked(groupId, order -> {
      handed.parent = null;
      if (!order.inFlight.remove(handed)) {
        return false; // back in the retries already, with the earlier append it was built on
      }
      // Every append built on this one fails its condition too: none may build on them any more.
      tails.computeIfPresent(groupId, (key, last) -> last.by().builtOn(handed) ? null : last);
      if (!(cause instanceof ConflictException) || append.attempt >= MAX_ATTEMPTS) {
        append.result.completeExceptionally(cause);
        return false;
      }
      forget(groupId);
      append.attempt++;
      order.retries.put(append.arrival, append);
      for (Iterator<Handed> i = order.inFlight.iterator(); i.hasNext(); ) {
        Handed later = i.next();
        if (later.builtOn(handed)) {
          i.remove();
          later.append.attempt++;
          order.retries.put(later.append.arrival, later.append);
        }
      }
      return true;
    });
    if (retry) {
      // Never on the storage's thread, which completed this one.
      queue.submit(groupId, () -> CompletableFuture.supplyAsync(() -> inTurn(groupId, null), executor)
          .thenCompose(turn -> turn));
    }
  }

  /**
   * Runs {@code action} holding the lock of {@code groupId}'s order; drops the order once it holds
   * nothing, so that an idle group holds no memory.
   */
  private <T> T locked(String groupId, java.util.function.Function<GroupOrder, T> action) {
    while (true) {
      GroupOrder order = orders.computeIfAbsent(groupId, id -> new GroupOrder());
      synchronized (order) {
        if (order.gone) {
          continue;
        }
        T result = action.apply(order);
        if (order.inFlight.isEmpty() && order.retries.isEmpty()) {
          order.gone = true;
          orders.remove(groupId, order);
        }
        return result;
      }
    }
  }

  /** An append of this instance: its request and rule, and its outcome. */
  private static final class Attempt {
    final Request request;
    final GroupRule rule;
    /** When it arrived here: retries are handed over in this order. */
    final long arrival;
    final CompletableFuture<Reply> result = new CompletableFuture<>();
    /** Attempts so far, counting the one running; guarded by the group's order. */
    int attempt = 1;

    Attempt(Request request, GroupRule rule, long arrival) {
      this.request = request;
      this.rule = rule;
      this.arrival = arrival;
    }
  }

  /**
   * One hand-over of an append to the storage (an append retried is handed over again), built on
   * the state {@code parent} leaves (null: a committed state).
   */
  private static final class Handed {
    final Attempt append;
    /** Null once it ended (those before it ended first): guarded by the group's order. */
    Handed parent;

    Handed(Attempt append, Handed parent) {
      this.append = append;
      this.parent = parent;
    }

    /** Whether this is {@code other} or was built on it, directly or through others. */
    boolean builtOn(Handed other) {
      for (Handed h = this; h != null; h = h.parent) {
        if (h == other) {
          return true;
        }
      }
      return false;
    }
  }

  /** The state the group's last append handed over leaves, and that hand-over. */
  private record Tail(Known known, Handed by) {}

  /** A group's appends handed to the storage and not ended yet, and those waiting to be retried. */
  private static final class GroupOrder {
    /** In the order handed over. */
    final List<Handed> inFlight = new ArrayList<>();
    /** By arrival. */
    final java.util.TreeMap<Long, Attempt> retries = new java.util.TreeMap<>();
    /** Dropped from the map: a new one is made for the group. */
    boolean gone;
  }

  /** Drops the cached state of {@code groupId}: another writer changed the group. */
  private void forget(String groupId) {
    synchronized (cacheLock) {
      Known previous = cache.remove(groupId);
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
   * Caches a state just committed, unless a later one is cached already (commits of one group may
   * complete out of order), and evicts other groups' states until the cache is within its byte
   * budget: a few huge groups take the room of many small ones. A state larger than the whole
   * budget is not cached (its group's appends read it from the storage).
   */
  private void remember(Known known) {
    GroupState state = known.state();
    long bytes = estimatedBytes(known);
    synchronized (cacheLock) {
      Known cached = cache.get(state.groupId());
      if (cached != null && cached.state().lastSeq() >= state.lastSeq()) {
        return;
      }
      Known previous = bytes > cacheBytes ? cache.remove(state.groupId()) : cache.put(state.groupId(), known);
      if (previous != null) {
        cachedBytes -= estimatedBytes(previous);
      }
      if (bytes > cacheBytes) {
        return;
      }
      cachedBytes += bytes;
      Iterator<Map.Entry<String, Known>> entries = cache.entrySet().iterator();
      while (cachedBytes > cacheBytes && entries.hasNext()) {
        Map.Entry<String, Known> entry = entries.next();
        if (!entry.getKey().equals(state.groupId())) {
          cachedBytes -= estimatedBytes(entry.getValue());
          entries.remove(); // the storage has it: the group's next append reads it from there
        }
      }
    }
  }

  /** A cached state's estimated heap: the state's, and its stored bytes. */
  private static long estimatedBytes(Known known) {
    return estimatedBytes(known.state()) + known.stored().length;
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
