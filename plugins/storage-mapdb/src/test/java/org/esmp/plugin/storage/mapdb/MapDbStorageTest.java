package org.esmp.plugin.storage.mapdb;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.esmp.api.testkit.StorageFixtures.ack;
import static org.esmp.api.testkit.StorageFixtures.address;
import static org.esmp.api.testkit.StorageFixtures.delivery;
import static org.esmp.api.testkit.StorageFixtures.entry;
import static org.esmp.api.testkit.StorageFixtures.id;
import static org.esmp.api.testkit.StorageFixtures.key;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.esmp.api.Address;
import org.esmp.api.ConflictException;
import org.esmp.api.DuplicateException;
import org.esmp.api.MailboxEntry;
import org.esmp.api.MessageId;
import org.esmp.api.Stored;
import org.esmp.api.spi.Storage;
import org.esmp.api.spi.StorageChange;
import org.esmp.api.testkit.StorageFixtures;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MapDbStorageTest {

  private static final Address ALICE = address("alice");
  private static final Address BOB = address("bob");
  private static final Address CAROL = address("carol");

  @TempDir Path data;
  private final List<MapDbStorage> opened = new ArrayList<>();

  @AfterEach
  void closeAll() {
    opened.forEach(MapDbStorage::close);
  }

  private MapDbStorage open() {
    MapDbStorage storage = new MapDbStorage(StorageContexts.of(data));
    opened.add(storage);
    return storage;
  }

  private static <T> T await(CompletableFuture<T> future) throws Exception {
    return future.get(30, TimeUnit.SECONDS);
  }

  private static List<Long> commit(MapDbStorage storage, StorageChange change) throws Exception {
    return await(storage.commit(change).toCompletableFuture());
  }

  @Test
  void keepsFilesInItsOwnDirectory() {
    open();
    assertTrue(Files.isRegularFile(data.resolve("storage-mapdb").resolve("storage.db")));
  }

  @Test
  void readsBackWhatWasCommitted() throws Exception {
    MapDbStorage storage = open();
    MailboxEntry group =
        new MailboxEntry(0, id("g1"), ALICE, 2000, StorageFixtures.message("g1", 100), Optional.of("g-1"), OptionalLong.of(7));
    List<Long> cursors =
        commit(
            storage,
            StorageChange.builder()
                .bindKey(ALICE, key("alice-1"))
                .accept(id("m1"), 1000, ack("m1"))
                .append(BOB, entry("m1", ALICE, 1000))
                .append(CAROL, entry("m1", ALICE, 1000))
                .append(BOB, group)
                .build());

    assertEquals(List.of(1L, 1L, 2L), cursors);
    assertEquals(Optional.of(ALICE), storage.addressOf(key("alice-1")));
    assertEquals(List.of(key("alice-1")), storage.keysOf(ALICE));
    assertEquals(Optional.of(ack("m1")), storage.acceptedAnswer(id("m1")));
    assertEquals(Optional.empty(), storage.acceptedAnswer(id("m2")));
    assertEquals(2, storage.lastCursor(BOB));
    assertEquals(0, storage.lastCursor(ALICE));
    assertEquals(
        List.of(entry("m1", ALICE, 1000).withCursor(1), group.withCursor(2)), storage.readMailbox(BOB, 0, 10));
    assertEquals(List.of(group.withCursor(2)), storage.readMailbox(BOB, 1, 10));
    assertEquals(List.of(entry("m1", ALICE, 1000).withCursor(1)), storage.readMailbox(BOB, 0, 1));
    assertEquals(List.of(), storage.readMailbox(BOB, 2, 10));
    assertEquals(List.of(), storage.readMailbox(ALICE, 0, 10));
  }

  @Test
  void cursorsAreContiguousPerAddressAcrossReopen() throws Exception {
    MapDbStorage storage = open();
    for (int i = 1; i <= 5; i++) {
      assertEquals(List.of((long) i), commit(storage, delivery("a" + i, i, ALICE, BOB)));
    }
    assertEquals(List.of(1L, 6L), commit(storage, delivery("b1", 6, ALICE, CAROL, BOB)));
    storage.close();

    MapDbStorage reopened = open();
    assertEquals(6, reopened.lastCursor(BOB));
    assertEquals(List.of(7L, 2L), commit(reopened, delivery("b2", 7, ALICE, BOB, CAROL)));
    List<Long> read = reopened.readMailbox(BOB, 0, 100).stream().map(MailboxEntry::cursor).toList();
    assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L), read);
  }

  @Test
  void pluginValuesCommitAtomicallyWithTheRestAndSurviveReopen() throws Exception {
    MapDbStorage storage = open();
    commit(storage, StorageChange.builder().put("threads", "g/2", new byte[] {2}).put("threads", "g/1", new byte[] {1})
        .put("groups", "g", new byte[] {9}).accept(id("m1"), 1000, ack("m1")).build());
    commit(storage, StorageChange.builder().delete("threads", "g/1").put("threads", "g/3", new byte[] {3}).build());
    storage.close();

    MapDbStorage reopened = open();
    assertEquals(List.of("g/2", "g/3"),
        reopened.scan("threads", "g/", "g0", 10).stream().map(Stored::key).toList());
    assertArrayEquals(new byte[] {9}, reopened.get("groups", "g").orElseThrow());
    assertTrue(reopened.get("threads", "g/1").isEmpty());
    assertEquals(Optional.of(ack("m1")), reopened.acceptedAnswer(id("m1")));
  }

  @Test
  void acceptedRecordSurvivesReopen() throws Exception {
    MapDbStorage storage = open();
    commit(storage, delivery("m1", 1000, ALICE, BOB));
    storage.close();

    assertEquals(Optional.of(ack("m1")), open().acceptedAnswer(id("m1")));
  }

  @Test
  void idsSharingAKeyPrefixKeepTheirOwnRecords() throws Exception {
    // Accepted records are keyed by the first 8 bytes of the id: these three share them.
    MessageId first = new MessageId("0123456789abcdef" + "1".repeat(48));
    MessageId second = new MessageId("0123456789abcdef" + "2".repeat(48));
    MessageId third = new MessageId("0123456789abcdef" + "3".repeat(48));
    MapDbStorage storage = open();
    commit(storage, StorageChange.builder().accept(first, 100, ack("first")).build());
    CompletableFuture<List<Long>> sameBatch =
        storage.commit(StorageChange.builder().accept(second, 200, ack("second")).build()).toCompletableFuture();
    commit(storage, StorageChange.builder().accept(third, 200, ack("third")).build());
    await(sameBatch);
    assertEquals(Optional.of(ack("first")), storage.acceptedAnswer(first));
    assertEquals(Optional.of(ack("second")), storage.acceptedAnswer(second));
    assertEquals(Optional.of(ack("third")), storage.acceptedAnswer(third));
    assertEquals(Optional.empty(), storage.acceptedAnswer(new MessageId("0123456789abcdef" + "4".repeat(48))));
    // Accepting an id again is refused with the first answer (insert-if-absent), nothing applied.
    ExecutionException again = assertThrows(ExecutionException.class, () -> commit(storage,
        StorageChange.builder().accept(second, 300, ack("second again")).append(BOB, entry("x", ALICE, 300)).build()));
    DuplicateException duplicate = assertInstanceOf(DuplicateException.class, again.getCause());
    assertEquals(ack("second"), duplicate.answer());
    assertEquals(0, storage.lastCursor(BOB), "nothing of a refused change is applied");
    storage.close();

    MapDbStorage reopened = open();
    assertEquals(Optional.of(ack("second")), reopened.acceptedAnswer(second));
    await(reopened.trim(150).toCompletableFuture());
    assertEquals(Optional.empty(), reopened.acceptedAnswer(first));
    assertEquals(Optional.of(ack("second")), reopened.acceptedAnswer(second));
    assertEquals(Optional.of(ack("third")), reopened.acceptedAnswer(third));
    reopened.close();

    MapDbStorage last = open();
    await(last.trim(201).toCompletableFuture());
    assertEquals(Optional.empty(), last.acceptedAnswer(second));
    assertEquals(Optional.empty(), last.acceptedAnswer(third));
    last.close();
    open();
  }

  /**
   * Compare-and-set under contention: writers read a counter, commit its next value expecting the
   * value they read, and retry when they lose. No increment is lost and none is doubled, and each
   * value's log key (insert-if-absent) is written once: the gapless sequence a group thread needs.
   */
  @Test
  void conditionalCommitsThatLoseARaceFailWithAConflictAndRetriesMakeAGaplessSequence() throws Exception {
    MapDbStorage storage = open();
    int writers = 8;
    int each = 50;
    AtomicInteger conflicts = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        done.add(pool.submit(() -> {
          for (int i = 0; i < each; i++) {
            while (true) {
              Optional<byte[]> read = storage.get("counter", "n");
              long n = read.map(v -> Long.parseLong(new String(v, UTF_8))).orElse(0L);
              StorageChange.Builder change = StorageChange.builder();
              if (read.isPresent()) {
                change.expect("counter", "n", read.get());
              } else {
                change.expectAbsent("counter", "n");
              }
              String next = Long.toString(n + 1);
              change.expectAbsent("log", String.format("%08d", n + 1))
                  .put("log", String.format("%08d", n + 1), next.getBytes(UTF_8))
                  .put("counter", "n", next.getBytes(UTF_8));
              try {
                commit(storage, change.build());
                break;
              } catch (ExecutionException e) {
                assertInstanceOf(ConflictException.class, e.getCause());
                conflicts.incrementAndGet();
              }
            }
          }
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    int total = writers * each;
    assertEquals(Optional.of(Integer.toString(total)), storage.get("counter", "n").map(v -> new String(v, UTF_8)));
    List<String> log = storage.scan("log", "", "~", total + 10).stream().map(Stored::key).toList();
    assertEquals(IntStream.rangeClosed(1, total).mapToObj(i -> String.format("%08d", i)).toList(), log);
    assertTrue(conflicts.get() > 0, "the writers raced: some lost with a conflict");
  }

  @Test
  void aChangeWhoseConditionFailsIsRefusedAloneWithAConflict() throws Exception {
    MapDbStorage storage = open();
    commit(storage, StorageChange.builder().bindKey(ALICE, key("a1")).build());
    CompletableFuture<List<Long>> takesAlicesKey =
        storage.commit(StorageChange.builder().bindKey(BOB, key("a1")).build()).toCompletableFuture();
    CompletableFuture<List<Long>> staleKeys = storage.commit(
        StorageChange.builder().expectKeys(ALICE, List.of()).bindKey(ALICE, key("a2")).build()).toCompletableFuture();
    CompletableFuture<List<Long>> fine = storage.commit(
        StorageChange.builder().expectKeys(ALICE, List.of(key("a1"))).bindKey(ALICE, key("a2"))
            .append(BOB, entry("m", ALICE, 1)).build()).toCompletableFuture();
    assertInstanceOf(ConflictException.class, assertThrows(ExecutionException.class, () -> await(takesAlicesKey)).getCause());
    assertInstanceOf(ConflictException.class, assertThrows(ExecutionException.class, () -> await(staleKeys)).getCause());
    assertEquals(List.of(1L), await(fine));
    assertEquals(List.of(key("a1"), key("a2")), storage.keysOf(ALICE));
    assertEquals(List.of(), storage.keysOf(BOB));
  }

  @Test
  void identitiesSurviveReopenInBindingOrder() throws Exception {
    MapDbStorage storage = open();
    commit(storage, StorageChange.builder().bindKey(ALICE, key("a1")).build());
    commit(storage, StorageChange.builder().bindKey(ALICE, key("a2")).bindKey(ALICE, key("a3")).build());
    commit(storage, StorageChange.builder().unbindKey(ALICE, key("a1")).bindKey(BOB, key("b1")).build());
    // A key moved in one change: unbound first, then bound.
    commit(storage, StorageChange.builder().unbindKey(BOB, key("b1")).bindKey(CAROL, key("b1")).build());
    storage.close();

    MapDbStorage reopened = open();
    assertEquals(List.of(key("a2"), key("a3")), reopened.keysOf(ALICE));
    assertEquals(Optional.empty(), reopened.addressOf(key("a1")));
    assertEquals(Optional.of(ALICE), reopened.addressOf(key("a3")));
    assertEquals(List.of(), reopened.keysOf(BOB));
    assertEquals(Optional.of(CAROL), reopened.addressOf(key("b1")));
  }

  @Test
  void readsNeverSeeABatchBeforeItIsCommitted() throws Exception {
    MapDbStorage storage = open();
    commit(storage, delivery("old", 1, ALICE, BOB));
    CountDownLatch applied = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    storage.beforeCommit(
        () -> {
          applied.countDown();
          try {
            release.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
    CompletableFuture<List<Long>> pending =
        storage
            .commit(
                StorageChange.builder()
                    .bindKey(CAROL, key("c1"))
                    .accept(id("new"), 2, ack("new"))
                    .append(BOB, entry("new", ALICE, 2))
                    .build())
            .toCompletableFuture();
    assertTrue(applied.await(10, TimeUnit.SECONDS));

    // Written to MapDB, not committed: nothing of it may show.
    assertEquals(Optional.empty(), storage.acceptedAnswer(id("new")));
    assertEquals(Optional.empty(), storage.addressOf(key("c1")));
    assertEquals(1, storage.lastCursor(BOB));
    assertEquals(1, storage.readMailbox(BOB, 0, 10).size());
    assertFalse(pending.isDone());

    release.countDown();
    assertEquals(List.of(2L), await(pending));
    assertEquals(Optional.of(ack("new")), storage.acceptedAnswer(id("new")));
    assertEquals(Optional.of(CAROL), storage.addressOf(key("c1")));
    assertEquals(2, storage.readMailbox(BOB, 0, 10).size());
  }

  @Test
  void failedBatchIsRolledBackAndLaterOnesAreServed() throws Exception {
    MapDbStorage storage = open();
    commit(storage, delivery("m1", 1, ALICE, BOB));
    AtomicBoolean failOnce = new AtomicBoolean(true);
    storage.beforeCommit(
        () -> {
          if (failOnce.getAndSet(false)) {
            throw new IllegalStateException("disk on fire");
          }
        });

    CompletableFuture<List<Long>> failed =
        storage
            .commit(StorageChange.builder().bindKey(CAROL, key("c1")).accept(id("m2"), 2, ack("m2"))
                .append(BOB, entry("m2", ALICE, 2)).build())
            .toCompletableFuture();
    ExecutionException e = assertThrows(ExecutionException.class, () -> await(failed));
    assertEquals("disk on fire", e.getCause().getMessage());
    assertEquals(Optional.empty(), storage.acceptedAnswer(id("m2")));
    assertEquals(Optional.empty(), storage.addressOf(key("c1")));
    assertEquals(1, storage.lastCursor(BOB));

    assertEquals(List.of(2L), commit(storage, delivery("m3", 3, ALICE, BOB)));
    storage.close();

    MapDbStorage reopened = open();
    assertEquals(Optional.empty(), reopened.acceptedAnswer(id("m2")));
    assertEquals(Optional.empty(), reopened.addressOf(key("c1")));
    assertEquals(
        List.of(id("m1"), id("m3")), reopened.readMailbox(BOB, 0, 10).stream().map(MailboxEntry::id).toList());
  }

  @Test
  void trimDeletesOldEntriesAndRecordsButNeverReusesCursors() throws Exception {
    MapDbStorage storage = open();
    for (int i = 1; i <= 10; i++) {
      commit(storage, delivery("m" + i, i * 100L, ALICE, BOB, i % 2 == 0 ? CAROL : ALICE));
    }
    // Entries received at 100..500 for bob; 200 and 400 for carol; 100, 300, 500 for alice.
    assertEquals(10L, await(storage.trim(501).toCompletableFuture()));

    assertEquals(
        List.of(6L, 7L, 8L, 9L, 10L),
        storage.readMailbox(BOB, 0, 100).stream().map(MailboxEntry::cursor).toList());
    assertEquals(Optional.empty(), storage.acceptedAnswer(id("m5")));
    assertEquals(Optional.of(ack("m6")), storage.acceptedAnswer(id("m6")));
    assertEquals(10, storage.lastCursor(BOB));
    assertEquals(List.of(11L), commit(storage, delivery("m11", 1100, ALICE, BOB)));
    storage.close();

    MapDbStorage reopened = open();
    assertEquals(11, reopened.lastCursor(BOB));
    assertEquals(6, reopened.readMailbox(BOB, 0, 100).size());
    assertEquals(0L, await(reopened.trim(501).toCompletableFuture()));
    assertEquals(List.of(12L), commit(reopened, delivery("m12", 1200, ALICE, BOB)));
  }

  @Test
  void aMailboxTrimmedEmptyKeepsItsLastCursorAcrossReopen() throws Exception {
    MapDbStorage storage = open();
    for (int i = 1; i <= 3; i++) {
      commit(storage, delivery("e" + i, i, ALICE, BOB));
    }
    assertEquals(3L, await(storage.trim(100).toCompletableFuture()));
    assertEquals(List.of(), storage.readMailbox(BOB, 0, 10));
    storage.close();

    MapDbStorage reopened = open();
    assertEquals(3, reopened.lastCursor(BOB), "no entry left, the cursor recorded by the trim");
    assertEquals(List.of(4L), commit(reopened, delivery("e4", 200, ALICE, BOB)));
  }

  @Test
  void trimOfManyEntriesRunsInSeveralCommits() throws Exception {
    MapDbStorage storage = open();
    int count = Retention.TRIM_CHUNK + 500;
    List<CompletableFuture<List<Long>>> futures = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      futures.add(storage.commit(delivery("n" + i, i, ALICE, BOB)).toCompletableFuture());
    }
    await(CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)));
    long before = storage.dbCommits();

    assertEquals((long) count, await(storage.trim(count).toCompletableFuture()));
    assertTrue(storage.dbCommits() - before >= 2, "trim chunks commit separately");
    assertEquals(List.of(), storage.readMailbox(BOB, 0, 10));
    assertEquals(Optional.empty(), storage.acceptedAnswer(id("n" + (count - 1))));
  }

  @Test
  void concurrentCommitsCompleteAndAreBatched() throws Exception {
    MapDbStorage storage = open();
    int threads = 8;
    int perThread = 500;
    List<List<CompletableFuture<List<Long>>>> perSender = new ArrayList<>();
    List<Thread> senders = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      String prefix = "c" + t + "-";
      List<CompletableFuture<List<Long>>> mine = new ArrayList<>();
      perSender.add(mine);
      Thread sender =
          new Thread(
              () -> {
                for (int i = 0; i < perThread; i++) {
                  mine.add(storage.commit(delivery(prefix + i, i, ALICE, BOB)).toCompletableFuture());
                }
              });
      senders.add(sender);
      sender.start();
    }
    List<Long> cursors = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      senders.get(t).join(); // publishes the sender's list
      for (CompletableFuture<List<Long>> f : perSender.get(t)) {
        cursors.addAll(await(f));
      }
    }
    cursors.sort(null);
    List<Long> expected = new ArrayList<>();
    for (long c = 1; c <= threads * perThread; c++) {
      expected.add(c);
    }
    assertEquals(expected, cursors);
    assertEquals(threads * perThread, storage.committedChanges());
    assertTrue(
        storage.dbCommits() < threads * perThread / 4,
        "expected batching, got " + storage.dbCommits() + " commits for " + threads * perThread + " changes");
  }

  @Test
  void closeCommitsWhatIsQueuedAndIsIdempotent() throws Exception {
    MapDbStorage storage = open();
    List<CompletableFuture<List<Long>>> futures = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      futures.add(storage.commit(delivery("q" + i, i, ALICE, BOB)).toCompletableFuture());
    }
    storage.close();
    storage.close();
    for (CompletableFuture<List<Long>> f : futures) {
      assertTrue(f.isDone() && !f.isCompletedExceptionally());
    }
    CompletableFuture<List<Long>> late = storage.commit(delivery("late", 1, ALICE, BOB)).toCompletableFuture();
    assertThrows(ExecutionException.class, () -> await(late));

    assertEquals(1000, open().lastCursor(BOB));
  }

  @Test
  void truncatedFileFailsTheConstructor() throws Exception {
    Path file = fillAndClose();
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.setLength(raf.length() / 3);
    }
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> open());
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
  }

  @Test
  void overwrittenFileFailsTheConstructor() throws Exception {
    Path file = fillAndClose();
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      byte[] garbage = new byte[4096];
      java.util.Arrays.fill(garbage, (byte) 0x5a);
      raf.seek(0);
      raf.write(garbage);
    }
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> open());
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
  }

  private Path fillAndClose() throws Exception {
    MapDbStorage storage = open();
    for (int i = 0; i < 200; i++) {
      commit(storage, delivery("f" + i, i, ALICE, BOB, CAROL));
    }
    storage.close();
    opened.clear();
    return data.resolve("storage-mapdb").resolve("storage.db");
  }
}
