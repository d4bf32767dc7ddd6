package org.esmp.plugins.groupthreads;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.Future;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.LongStream;
import org.esmp.api.Address;
import org.esmp.api.Delivery;
import org.esmp.api.ErrorCode;
import org.esmp.api.MailboxEntry;
import org.esmp.api.MessageId;
import org.esmp.api.RejectedException;
import org.esmp.api.Reply;
import org.esmp.api.group.GroupChange;
import org.esmp.api.group.GroupRule;
import org.esmp.api.group.GroupState;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonBoolean;
import org.esmp.api.json.JsonNull;
import org.esmp.api.json.JsonNumber;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonString;
import org.esmp.api.json.JsonValue;
import org.esmp.api.spi.StorageChange;
import org.esmp.api.testkit.InMemoryStorage;
import org.esmp.api.testkit.TestContext;
import org.esmp.api.testkit.TestRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class GroupThreadsTest {

  private static final Address ALICE = Address.parse("alice#example.com");
  private static final Address BOB = Address.parse("bob#example.com");
  private static final Address CAROL = Address.parse("carol#example.com"); // serves here, not registered
  private static final Address DAVE = Address.parse("dave#other.org"); // another server's
  private static final Address EVE = Address.parse("eve#example.com"); // registered, in no group
  private static final String GROUP = "g-1";

  private final ExecutorService pool = Executors.newFixedThreadPool(4);
  private TestContext context;
  private GroupThreads threads;

  @BeforeEach
  void setUp() {
    context = TestContext.builder("group-threads").build();
    context.register(ALICE);
    context.register(BOB);
    context.register(EVE);
    threads = new GroupThreads(context, pool, GroupThreads.DEFAULT_CACHE_BYTES);
  }

  @AfterEach
  void tearDown() {
    pool.shutdownNow();
  }

  // ---- fixtures ----

  /** A rule that creates the group with {@code members} (the first is the admin), or refuses {@code group_exists}. */
  private static GroupRule creating(String groupId, Optional<String> name, Address... members) {
    return current -> {
      if (current.isPresent()) {
        throw new RejectedException(ErrorCode.GROUP_EXISTS, "taken");
      }
      GroupState after = new GroupState(groupId, name, GroupState.Policy.INVITE, List.of(members),
          List.of(members[0]), 0);
      return new GroupChange(after, List.of(members));
    };
  }

  private Reply create(String groupId, Address... members) {
    return await(threads.append(request("group_created", members[0]).group(groupId).build(),
        creating(groupId, Optional.empty(), members)));
  }

  private static TestRequest.Builder request(String type, Address sender) {
    return TestRequest.builder(type, sender);
  }

  private static TestRequest.Builder text(Address sender, String groupId, long n) {
    return request("text", sender).group(groupId).body(JsonObject.builder().put("n", n).build());
  }

  private static <T> T await(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError("failed: " + e.getCause(), e.getCause());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** The failure of a stage (or of the call making it), whether thrown at once or completed later. */
  private static Throwable failure(Supplier<CompletionStage<?>> call) {
    CompletionStage<?> stage;
    try {
      stage = call.get();
    } catch (RuntimeException e) {
      return e;
    }
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> stage.toCompletableFuture().get(30, TimeUnit.SECONDS));
    return e.getCause();
  }

  private static ErrorCode code(Supplier<CompletionStage<?>> call) {
    return assertInstanceOf(RejectedException.class, failure(call)).code();
  }

  private static long seq(Reply ack) {
    assertTrue(ack.isAck(), () -> "not an ack: " + ack);
    return ((JsonNumber) ack.fields().get("seq")).longValue();
  }

  private static long number(JsonObject object, String name) {
    return ((JsonNumber) object.get(name)).longValue();
  }

  private static List<Long> seqs(JsonObject history) {
    List<Long> seqs = new ArrayList<>();
    for (JsonValue entry : history.get("entries").asArray()) {
      seqs.add(number(entry.asObject(), "seq"));
    }
    return seqs;
  }

  private static boolean more(JsonObject history) {
    return ((JsonBoolean) history.get("more")).value();
  }

  private static List<Long> range(long fromInclusive, long toInclusive, boolean descending) {
    return LongStream.rangeClosed(fromInclusive, toInclusive)
        .map(i -> descending ? fromInclusive + toInclusive - i : i)
        .boxed()
        .toList();
  }

  private JsonObject history(Address sender, JsonObject body) {
    Reply reply = await(threads.handle(request("history", sender).group(GROUP).authenticated().body(body).build()));
    assertEquals("history", reply.type());
    return reply.fields();
  }

  // ---- the ledger ----

  @Test
  void numbersEntriesFromOneAndAcksWithTheSeq() {
    assertEquals(1, seq(create(GROUP, ALICE, BOB)));
    TestRequest message = text(BOB, GROUP, 1).build();
    Reply ack = await(threads.deliver(message, false));
    assertEquals(JsonObject.builder().put("seq", 2).build(), ack.fields());
    assertEquals(Optional.of(ack.fields()), context.storage().acceptedAnswer(message.message().id()),
        "a resend must get the same ack");
    assertEquals(2, threads.group(GROUP).orElseThrow().lastSeq());
    assertEquals(List.of(ThreadRecords.threadKey(GROUP, 1), ThreadRecords.threadKey(GROUP, 2)),
        context.storage().keys(ThreadRecords.THREAD));
  }

  @Test
  void listsCommittedGroupsInIdOrderAPageAtATime() {
    create("g-b", ALICE, BOB);
    create("g-a", BOB);
    create("g-c", EVE, ALICE);
    await(threads.append(text(BOB, "g-b", 1).build(), current -> new GroupChange(current.orElseThrow(), List.of(ALICE))));

    assertEquals(List.of("g-a", "g-b"), threads.groups("", 2).stream().map(GroupState::groupId).toList());
    List<GroupState> rest = threads.groups("g-b", 2);
    assertEquals(List.of("g-c"), rest.stream().map(GroupState::groupId).toList());
    assertEquals(List.of(EVE, ALICE), rest.get(0).members());
    GroupState b = threads.groups("g-a", 1).get(0);
    assertEquals(2, b.lastSeq(), "the state as committed, its thread's seq included");
    assertEquals(List.of(), threads.groups("g-c", 10));
    assertEquals(List.of(), threads.groups("", 0));
  }

  @Test
  void seqIsGaplessUnderConcurrentAppendsToOneGroup() throws Exception {
    int writers = 8;
    int each = 200;
    GroupRule createOrPost = current -> current
        .map(state -> new GroupChange(state, state.members()))
        .orElseGet(() -> creating(GROUP, Optional.empty(), ALICE, BOB).apply(current));
    ExecutorService senders = Executors.newFixedThreadPool(writers);
    List<CompletableFuture<Reply>> acks = new ArrayList<>();
    try {
      List<CompletableFuture<List<CompletionStage<Reply>>>> batches = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        batches.add(CompletableFuture.supplyAsync(() -> {
          List<CompletionStage<Reply>> mine = new ArrayList<>();
          for (int i = 0; i < each; i++) {
            mine.add(threads.append(text(ALICE, GROUP, i).build(), createOrPost));
          }
          return mine;
        }, senders));
      }
      for (CompletableFuture<List<CompletionStage<Reply>>> batch : batches) {
        batch.get(30, TimeUnit.SECONDS).forEach(stage -> acks.add(stage.toCompletableFuture()));
      }
    } finally {
      senders.shutdown();
    }
    List<Long> seqs = new ArrayList<>();
    for (CompletableFuture<Reply> ack : acks) {
      seqs.add(seq(await(ack)));
    }
    seqs.sort(null);
    assertEquals(range(1, writers * each, false), seqs);
    assertEquals(writers * each, threads.group(GROUP).orElseThrow().lastSeq());
    assertEquals(writers * each, context.storage().keys(ThreadRecords.THREAD).size());
    for (Address member : List.of(ALICE, BOB)) {
      List<MailboxEntry> mailbox = context.storage().mailbox(member);
      List<Long> delivered = mailbox.stream().map(e -> e.seq().orElseThrow()).toList();
      assertEquals(range(1, writers * each, false), delivered, "cursor order is thread order for " + member);
    }
    assertEquals(0, threads.activeGroups(), "idle groups must not keep a queue");
  }

  /**
   * Several writers of one group, each its own instance with its own queue and cache (as two
   * servers of a cluster on one storage): their in-process ordering cannot help, only the commit's
   * insert-if-absent of the new seq's entry. Losers fail with a conflict, re-read and retry; the
   * thread comes out gapless, each seq taken once, every member's mailbox in thread order.
   */
  @Test
  void concurrentWritersOnOneStorageLoseRacesWithAConflictAndRetryIntoAGaplessThread() throws Exception {
    ExecutorService completer = Executors.newSingleThreadExecutor(); // commits complete later, elsewhere
    InMemoryStorage shared = new InMemoryStorage().completingOn(completer);
    int writers = 4;
    int each = 40;
    List<GroupThreads> instances = new ArrayList<>();
    for (int w = 0; w < writers; w++) {
      TestContext node = TestContext.builder("group-threads").storage(shared).build();
      if (w == 0) {
        node.register(ALICE);
        node.register(BOB);
      }
      instances.add(new GroupThreads(node, pool, GroupThreads.DEFAULT_CACHE_BYTES));
    }
    await(instances.get(0).append(request("group_created", ALICE).group(GROUP).build(),
        creating(GROUP, Optional.empty(), ALICE, BOB)));
    GroupRule post = current -> {
      GroupState state = current.orElseThrow();
      return new GroupChange(state, state.members());
    };
    CyclicBarrier start = new CyclicBarrier(writers);
    ExecutorService senders = Executors.newFixedThreadPool(writers);
    List<CompletableFuture<Reply>> acks = new CopyOnWriteArrayList<>();
    List<List<CompletableFuture<Reply>>> byWriter = new ArrayList<>();
    try {
      List<Future<?>> sent = new ArrayList<>();
      for (GroupThreads instance : instances) {
        List<CompletableFuture<Reply>> own = new ArrayList<>();
        byWriter.add(own);
        sent.add(senders.submit(() -> {
          start.await(10, TimeUnit.SECONDS);
          for (int i = 0; i < each; i++) {
            CompletableFuture<Reply> ack = instance.append(text(ALICE, GROUP, i).build(), post).toCompletableFuture();
            own.add(ack);
            acks.add(ack);
          }
          return null;
        }));
      }
      for (Future<?> f : sent) {
        f.get(30, TimeUnit.SECONDS);
      }
      List<Long> seqs = new ArrayList<>();
      for (CompletableFuture<Reply> ack : acks) {
        seqs.add(seq(await(ack)));
      }
      for (List<CompletableFuture<Reply>> own : byWriter) {
        // One writer's pipelined posts keep the order it handed them over in, retries included.
        List<Long> ownSeqs = new ArrayList<>();
        for (CompletableFuture<Reply> ack : own) {
          ownSeqs.add(seq(await(ack)));
        }
        assertEquals(ownSeqs.stream().sorted().toList(), ownSeqs, "a writer's posts in the thread in the order sent");
      }
      seqs.sort(null);
      int total = writers * each;
      assertEquals(range(2, total + 1, false), seqs, "every seq after the creation's taken exactly once");
      // Whether the writers above raced depends on the scheduler; this race does not: the second
      // writer's cached state is one post behind once the first has posted.
      long conflicts = shared.conflicts();
      assertEquals(total + 2, seq(await(instances.get(0).append(text(ALICE, GROUP, each).build(), post))));
      assertEquals(total + 3, seq(await(instances.get(1).append(text(ALICE, GROUP, each + 1).build(), post))));
      assertTrue(shared.conflicts() > conflicts, "a writer on a stale state lost its commit with a conflict");
      assertEquals(total + 3, shared.keys(ThreadRecords.THREAD).size());
      for (Address member : List.of(ALICE, BOB)) {
        List<Long> delivered = shared.mailbox(member).stream().map(e -> e.seq().orElseThrow()).toList();
        assertEquals(range(1, total + 3, false), delivered, "cursor order is thread order for " + member);
      }
    } finally {
      senders.shutdownNow();
      completer.shutdownNow();
    }
  }

  @Test
  void rejectedRuleLeavesNoGap() {
    create(GROUP, ALICE, BOB);
    TestRequest refused = text(ALICE, GROUP, 1).build();
    assertEquals(ErrorCode.NOT_MEMBER, code(() -> threads.append(refused, current -> {
      throw new RejectedException(ErrorCode.NOT_MEMBER, "no");
    })));
    assertEquals(Optional.empty(), context.storage().acceptedAnswer(refused.message().id()));
    assertEquals(2, seq(await(threads.deliver(text(ALICE, GROUP, 2).build(), false))));
    assertEquals(0, threads.activeGroups());
  }

  @Test
  void failedCommitLeavesNoGapAndNoState() {
    create(GROUP, ALICE, BOB);
    context.storage().failNextCommits(1);
    Throwable failed = failure(() -> threads.deliver(text(ALICE, GROUP, 1).build(), false));
    assertInstanceOf(IllegalStateException.class, failed, "a storage failure is not a protocol refusal");
    assertEquals(1, threads.group(GROUP).orElseThrow().lastSeq());
    assertEquals(2, seq(await(threads.deliver(text(ALICE, GROUP, 2).build(), false))));
    assertEquals(List.of(ThreadRecords.threadKey(GROUP, 1), ThreadRecords.threadKey(GROUP, 2)),
        context.storage().keys(ThreadRecords.THREAD));
  }

  @Test
  void appendsOfOneGroupGoToTheStorageWithoutWaitingAndThoseBuiltOnAFailedOneRetryIntoAGaplessThread() {
    create(GROUP, ALICE, BOB);
    long applied = context.storage().commits();
    Queue<Runnable> held = new ConcurrentLinkedQueue<>();
    context.storage().completingOn(held::add); // no commit completes until released
    context.storage().failNextCommits(1);
    List<CompletionStage<Reply>> acks = new ArrayList<>();
    for (int n = 1; n <= 5; n++) {
      acks.add(threads.deliver(text(ALICE, GROUP, n).build(), false));
    }

    // All five were handed to the storage before any completed: the first failed (a storage
    // failure), and the four built on it were refused by their condition on the group's state.
    assertEquals(4, context.storage().conflicts());
    assertEquals(applied, context.storage().commits(), "none of them is applied");
    assertEquals(1, threads.group(GROUP).orElseThrow().lastSeq(), "readers see committed states only");

    context.storage().completingOn(Runnable::run);
    for (Runnable completion; (completion = held.poll()) != null; ) {
      completion.run();
    }
    assertInstanceOf(IllegalStateException.class, failure(() -> acks.get(0)), "a storage failure is the answer");
    Set<Long> seqs = new TreeSet<>();
    for (CompletionStage<Reply> ack : acks.subList(1, 5)) {
      seqs.add(seq(await(ack)));
    }
    assertEquals(Set.of(2L, 3L, 4L, 5L), seqs, "retried under the next free seqs, none twice");
    assertEquals(5, threads.group(GROUP).orElseThrow().lastSeq());
    assertEquals(5, context.storage().keys(ThreadRecords.THREAD).size(), "seqs 1 to 5, no gap");
  }

  @Test
  void ruleSeesTheCommittedStateAndCannotSetTheSeq() {
    create(GROUP, ALICE, BOB);
    List<Optional<GroupState>> seen = new ArrayList<>();
    Reply ack = await(threads.append(request("removed", ALICE).group(GROUP).build(), current -> {
      seen.add(current);
      GroupState state = current.orElseThrow();
      return new GroupChange(new GroupState(GROUP, state.name(), state.policy(), List.of(ALICE), List.of(ALICE), 999),
          List.of(ALICE, BOB));
    }));
    assertEquals(2, seq(ack));
    assertEquals(1, seen.get(0).orElseThrow().lastSeq());
    assertEquals(List.of(ALICE, BOB), seen.get(0).orElseThrow().members());
    GroupState after = threads.group(GROUP).orElseThrow();
    assertEquals(List.of(ALICE), after.members());
    assertEquals(2, after.lastSeq());
    assertEquals(2, context.storage().mailbox(BOB).size(), "the removed member gets the event");
  }

  @Test
  void ruleForAnotherGroupIsAFailure() {
    create(GROUP, ALICE);
    GroupRule wrong = current -> creating("other", Optional.empty(), ALICE).apply(Optional.empty());
    assertInstanceOf(IllegalStateException.class, failure(() -> threads.append(text(ALICE, GROUP, 1).build(), wrong)));
    assertEquals(1, threads.group(GROUP).orElseThrow().lastSeq());
  }

  @Test
  void appendWithoutGroupIdIsBadField() {
    assertEquals(ErrorCode.BAD_FIELD, code(() -> threads.append(request("text", ALICE).build(), current -> {
      throw new AssertionError("no rule without a group");
    })));
  }

  @Test
  void stateSurvivesANewInstanceAndASmallCache() {
    GroupThreads small = new GroupThreads(context, pool, 600); // room for one small group
    await(small.append(request("group_created", ALICE).group("a").build(), creating("a", Optional.of("A"), ALICE)));
    await(small.append(request("group_created", ALICE).group("b").build(), creating("b", Optional.empty(), ALICE)));
    for (int i = 0; i < 5; i++) {
      await(small.deliver(text(ALICE, "a", i).build(), false));
      await(small.deliver(text(ALICE, "b", i).build(), false));
    }
    GroupThreads restarted = new GroupThreads(context, pool, GroupThreads.DEFAULT_CACHE_BYTES);
    assertEquals(6, restarted.group("a").orElseThrow().lastSeq());
    assertEquals(Optional.of("A"), restarted.group("a").orElseThrow().name());
    assertEquals(7, seq(await(restarted.deliver(text(ALICE, "b", 9).build(), false))));
    assertEquals(Optional.empty(), restarted.group("c"));
  }

  @Test
  void theStateCacheStaysWithinItsByteBudgetAndAGroupLargerThanItIsReadFromTheStorage() {
    Address[] many = new Address[300];
    for (int i = 0; i < many.length; i++) {
      many[i] = Address.parse("member" + i + "#other.org"); // kept in the group; no mailbox here
    }
    many[0] = ALICE;
    long oneSmall = GroupThreads.estimatedBytes(
        creating("g0", Optional.empty(), ALICE).apply(Optional.empty()).after());
    long budget = 3 * oneSmall + oneSmall / 2;
    GroupThreads bounded = new GroupThreads(context, pool, budget);
    for (int g = 0; g < 20; g++) {
      await(bounded.append(request("group_created", ALICE).group("g" + g).build(),
          creating("g" + g, Optional.empty(), ALICE)));
      assertTrue(bounded.cachedBytes() <= budget, bounded.cachedBytes() + " cached over a budget of " + budget);
    }
    await(bounded.append(request("group_created", ALICE).group("big").build(),
        creating("big", Optional.empty(), many)));
    assertTrue(bounded.cachedBytes() <= budget, "a state larger than the budget is not cached");
    for (int i = 1; i <= 3; i++) {
      assertEquals(1 + i, seq(await(bounded.deliver(text(ALICE, "big", i).build(), false))), "seq from the storage");
    }
    assertEquals(4, bounded.group("big").orElseThrow().lastSeq());
    assertEquals(300, bounded.group("big").orElseThrow().members().size());
    assertEquals(1, bounded.group("g0").orElseThrow().lastSeq(), "an evicted group reads from the storage");
  }

  @Test
  void differentGroupsGetTheirOwnSeqs() {
    create("a", ALICE);
    create("b", ALICE);
    assertEquals(2, seq(await(threads.deliver(text(ALICE, "a", 1).build(), false))));
    assertEquals(2, seq(await(threads.deliver(text(ALICE, "b", 1).build(), false))));
    assertEquals(3, seq(await(threads.deliver(text(ALICE, "a", 2).build(), false))));
  }

  // ---- group messages ----

  @Test
  void groupMessageGoesToEveryLocalMemberThatExists() {
    create(GROUP, ALICE, BOB, CAROL, DAVE);
    TestRequest message = text(BOB, GROUP, 7).receivedAt(1234).build();
    assertEquals(2, seq(await(threads.deliver(message, false))));
    for (Address member : List.of(ALICE, BOB)) {
      MailboxEntry last = context.storage().mailbox(member).get(1);
      assertEquals(message.message().id(), last.id());
      assertEquals(BOB, last.from());
      assertEquals(1234, last.receivedAt());
      assertEquals(Optional.of(GROUP), last.groupId());
      assertEquals(2, last.seq().orElseThrow());
      assertEquals(message.message().fields(), last.message());
      assertEquals(2, last.cursor());
    }
    assertEquals(List.of(), context.storage().mailbox(CAROL), "an address that does not exist has no mailbox");
    assertEquals(List.of(), context.storage().mailbox(DAVE), "federation is not implemented");
    assertEquals(List.of(ALICE, BOB, CAROL, DAVE), threads.group(GROUP).orElseThrow().members());
  }

  @Test
  void groupMessageNeedsAGroupAndMembership() {
    create(GROUP, ALICE, BOB);
    assertEquals(ErrorCode.NO_SUCH_GROUP, code(() -> threads.deliver(text(ALICE, "nope", 1).build(), false)));
    assertEquals(ErrorCode.NOT_MEMBER, code(() -> threads.deliver(text(EVE, GROUP, 1).build(), false)));
    assertEquals(ErrorCode.NO_SUCH_GROUP, code(() -> threads.deliver(text(ALICE, "nope", 1).build(), true)));
    assertEquals(ErrorCode.NOT_MEMBER, code(() -> threads.deliver(text(EVE, GROUP, 1).build(), true)));
    assertEquals(1, threads.group(GROUP).orElseThrow().lastSeq());
    assertEquals(List.of(), context.live());
  }

  @Test
  void ephemeralGroupMessageGoesLiveToLocalMembersWithoutSeq() {
    create(GROUP, ALICE, BOB, CAROL, DAVE);
    long commits = context.storage().commits();
    TestRequest typing = text(BOB, GROUP, 1).build();
    Reply ack = await(threads.deliver(typing, true));
    assertTrue(ack.isAck());
    assertFalse(ack.fields().has("seq"));
    assertEquals(1, context.live().size());
    assertSame(typing, context.live().get(0).request());
    assertEquals(List.of(ALICE, BOB), context.live().get(0).recipients());
    assertEquals(commits, context.storage().commits(), "nothing stored");
    assertEquals(1, threads.group(GROUP).orElseThrow().lastSeq());
  }

  // ---- history ----

  @Test
  void historyPagesNewestFirstAcross1200Entries() {
    create(GROUP, ALICE, BOB);
    List<CompletionStage<Reply>> acks = new ArrayList<>();
    for (int i = 2; i <= 1200; i++) {
      acks.add(threads.deliver(text(i % 2 == 0 ? ALICE : BOB, GROUP, i).build(), false));
    }
    assertEquals(1200, seq(await(acks.get(acks.size() - 1))));

    JsonObject first = history(BOB, JsonObject.empty());
    assertEquals(range(1151, 1200, true), seqs(first), "default limit 50");
    assertEquals(JsonString.of(GROUP), first.get("group_id"));

    List<Long> all = new ArrayList<>();
    JsonObject page = history(BOB, JsonObject.builder().put("limit", 500).build());
    assertEquals(range(701, 1200, true), seqs(page));
    assertTrue(more(page));
    all.addAll(seqs(page));
    page = history(BOB, JsonObject.builder().put("limit", 500).put("before", 701).build());
    assertEquals(range(201, 700, true), seqs(page));
    assertTrue(more(page));
    all.addAll(seqs(page));
    page = history(BOB, JsonObject.builder().put("limit", 500).put("before", 201).build());
    assertEquals(range(1, 200, true), seqs(page));
    assertFalse(more(page));
    all.addAll(seqs(page));
    assertEquals(range(1, 1200, true), all);

    JsonObject exact = history(BOB, JsonObject.builder().put("limit", 200).put("before", 201).build());
    assertEquals(200, seqs(exact).size());
    assertFalse(more(exact), "no entry before seq 1");
    assertEquals(List.of(), seqs(history(BOB, JsonObject.builder().put("before", 1).build())));
    assertEquals(range(1151, 1200, true), seqs(history(BOB, JsonObject.builder().put("before", 5000).build())));
  }

  @Test
  void historyLimitAbove500IsTakenAs500() {
    create(GROUP, ALICE);
    for (int i = 2; i <= 600; i++) {
      threads.deliver(text(ALICE, GROUP, i).build(), false);
    }
    await(threads.deliver(text(ALICE, GROUP, 601).build(), false));
    JsonObject page = history(ALICE, JsonObject.builder().put("limit", 100_000).build());
    assertEquals(range(102, 601, true), seqs(page));
    assertTrue(more(page));
  }

  @Test
  void historyAnswerStopsEarlyPastItsByteBudgetAndPagesOn() {
    create(GROUP, ALICE);
    String big = "x".repeat(60_000);
    for (int i = 2; i <= 100; i++) {
      threads.deliver(request("text", ALICE).group(GROUP).body(JsonObject.builder().put("t", big).build()).build(), false);
    }
    await(threads.deliver(text(ALICE, GROUP, 101).build(), false));
    List<Long> all = new ArrayList<>();
    JsonObject page = history(ALICE, JsonObject.builder().put("limit", 500).build());
    int first = seqs(page).size();
    assertTrue(first > 1 && first < 101, "stopped at " + first);
    assertTrue(more(page));
    while (true) {
      all.addAll(seqs(page));
      if (!more(page)) {
        break;
      }
      page = history(ALICE, JsonObject.builder().put("limit", 500).put("before", all.get(all.size() - 1)).build());
    }
    assertEquals(range(1, 101, true), all);
  }

  @Test
  void historyEntryIsShapedLikeADeliverFrame() {
    create(GROUP, ALICE, BOB);
    TestRequest message = text(BOB, GROUP, 5).receivedAt(777).build();
    await(threads.deliver(message, false));
    JsonObject entry = history(ALICE, JsonObject.builder().put("limit", 1).build()).get("entries").asArray().get(0).asObject();
    assertEquals(List.of("id", "from", "received_at", "group_id", "seq", "message"), List.copyOf(entry.names()));
    assertEquals(message.message().id(), new MessageId(entry.string("id").orElseThrow()));
    assertEquals("bob#example.com", entry.string("from").orElseThrow());
    assertEquals(777, number(entry, "received_at"));
    assertEquals(GROUP, entry.string("group_id").orElseThrow());
    assertEquals(2, number(entry, "seq"));
    assertEquals(message.message().fields(), entry.get("message"));
  }

  @Test
  void historyReadsThreadEntriesStoredAsValuesBeforeApi11() {
    create(GROUP, ALICE, BOB);
    for (int n = 2; n <= 3; n++) {
      await(threads.deliver(text(BOB, GROUP, n).build(), false));
    }
    JsonObject kept = history(ALICE, JsonObject.builder().put("limit", 3).build());
    JsonObject second = kept.get("entries").asArray().get(1).asObject();
    // Seq 2 as a data directory from before kept entries holds it: a value, the whole entry as JSON.
    String key = ThreadRecords.threadKey(GROUP, 2);
    await(context.storage().commit(StorageChange.builder().put(ThreadRecords.THREAD, key, context.json().write(second))
        .build()));
    assertTrue(context.storage().entry(ThreadRecords.THREAD, key).isEmpty(), "seq 2 is a value now");

    assertEquals(kept, history(ALICE, JsonObject.builder().put("limit", 3).build()));
  }

  @Test
  void historyDoesNotMixGroups() {
    create("g", ALICE);
    create("g-x", ALICE);
    create("g0", ALICE);
    await(threads.deliver(text(ALICE, "g-x", 1).build(), false));
    await(threads.deliver(text(ALICE, "g0", 1).build(), false));
    Reply reply = await(threads.handle(request("history", ALICE).group("g").authenticated().build()));
    assertEquals(List.of(1L), seqs(reply.fields()));
  }

  @Test
  void historyRefusals() {
    create(GROUP, ALICE, BOB);
    JsonObject empty = JsonObject.empty();
    assertEquals(ErrorCode.AUTH_REQUIRED,
        code(() -> threads.handle(request("history", ALICE).group(GROUP).build())));
    assertEquals(ErrorCode.FORBIDDEN,
        code(() -> threads.handle(request("history", ALICE).group(GROUP).authenticatedAs(BOB).build())));
    assertEquals(ErrorCode.BAD_FIELD, code(() -> threads.handle(request("history", ALICE).authenticated().build())));
    for (JsonValue body : List.of(JsonString.of("x"), JsonArray.of(),
        JsonObject.builder().put("limit", 0).build(),
        JsonObject.builder().put("limit", -3).build(),
        JsonObject.builder().put("limit", new JsonNumber(1.5)).build(),
        JsonObject.builder().put("limit", "10").build(),
        JsonObject.builder().put("before", 0).build(),
        JsonObject.builder().put("before", true).build())) {
      assertEquals(ErrorCode.BAD_FIELD,
          code(() -> threads.handle(request("history", ALICE).group(GROUP).authenticated().body(body).build())),
          () -> "body " + body);
    }
    assertEquals(ErrorCode.NO_SUCH_GROUP,
        code(() -> threads.handle(request("history", ALICE).group("nope").authenticated().body(empty).build())));
    assertEquals(ErrorCode.NOT_MEMBER,
        code(() -> threads.handle(request("history", EVE).group(GROUP).authenticated().body(empty).build())));
    JsonObject nulls = JsonObject.builder().put("limit", JsonNull.INSTANCE).put("before", JsonNull.INSTANCE).build();
    assertEquals(List.of(1L), seqs(history(ALICE, nulls)), "null is taken as absent");
  }

  // ---- group_info ----

  @Test
  void groupInfoShowsTheCommittedState() {
    create(GROUP, ALICE, BOB, DAVE);
    await(threads.deliver(text(BOB, GROUP, 1).build(), false));
    Reply reply = await(threads.handle(request("group_info", BOB).group(GROUP).authenticated().build()));
    assertEquals("group", reply.type());
    JsonObject expected = JsonObject.builder()
        .put("group_id", GROUP)
        .put("name", JsonNull.INSTANCE)
        .put("policy", "invite")
        .put("members", JsonArray.ofStrings(List.of("alice#example.com", "bob#example.com", "dave#other.org")))
        .put("admins", JsonArray.ofStrings(List.of("alice#example.com")))
        .put("seq", 2)
        .build();
    assertEquals(expected, reply.fields());
    assertEquals(List.copyOf(expected.names()), List.copyOf(reply.fields().names()));

    await(threads.append(request("group_created", ALICE).group("named").build(),
        creating("named", Optional.of("Lunch"), ALICE)));
    Reply named = await(threads.handle(request("group_info", ALICE).group("named").authenticated().build()));
    assertEquals(JsonString.of("Lunch"), named.fields().get("name"));
  }

  @Test
  void groupInfoRefusals() {
    create(GROUP, ALICE);
    assertEquals(ErrorCode.AUTH_REQUIRED, code(() -> threads.handle(request("group_info", ALICE).group(GROUP).build())));
    assertEquals(ErrorCode.FORBIDDEN,
        code(() -> threads.handle(request("group_info", ALICE).group(GROUP).authenticatedAs(EVE).build())));
    assertEquals(ErrorCode.BAD_FIELD, code(() -> threads.handle(request("group_info", ALICE).authenticated().build())));
    assertEquals(ErrorCode.NO_SUCH_GROUP,
        code(() -> threads.handle(request("group_info", ALICE).group("nope").authenticated().build())));
    assertEquals(ErrorCode.NOT_MEMBER,
        code(() -> threads.handle(request("group_info", EVE).group(GROUP).authenticated().build())));
  }

  @Test
  void declaresTheSessionTypesAndTheGroupScope() {
    assertEquals(Set.of("history", "group_info"), threads.types());
    assertEquals(Delivery.Scope.GROUP, threads.scope());
  }
}
