package org.esmp.plugin.storage.mapdb;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.esmp.api.testkit.StorageFixtures.ack;
import static org.esmp.api.testkit.StorageFixtures.address;
import static org.esmp.api.testkit.StorageFixtures.delivery;
import static org.esmp.api.testkit.StorageFixtures.entry;
import static org.esmp.api.testkit.StorageFixtures.id;
import static org.esmp.api.testkit.StorageFixtures.key;
import static org.esmp.api.testkit.StorageFixtures.message;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.esmp.api.Address;
import org.esmp.api.ConflictException;
import org.esmp.api.MailboxEntry;
import org.esmp.api.StorageFailedException;
import org.esmp.api.spi.StorageChange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Batches committed on a real store, on the test's thread. */
class BatchWriterTest {

  private static final Address ALICE = address("alice");
  private static final Address BOB = address("bob");
  private static final Address CAROL = address("carol");
  private static final Address DAVE = address("dave");

  @TempDir Path dir;
  private OpenStore open;
  private BatchWriter writer;

  private void open(JournalOptions options) {
    open = new OpenStore(dir, options);
    writer = open.writer();
  }

  @AfterEach
  void close() {
    if (open != null) {
      open.close();
    }
  }

  private List<CompletableFuture<List<Long>>> commit(List<ChangeTask> batch) {
    writer.commit(batch);
    return batch.stream().map(t -> t.future).toList();
  }

  private static Throwable failure(CompletableFuture<?> future) {
    assertTrue(future.isDone(), "completed by the commit");
    return assertThrows(CompletionException.class, future::join).getCause();
  }

  private Optional<?> acceptedAnswer(String name) {
    byte[] bucket = open.store.accepted.get(Keys.idPrefix(id(name)));
    return bucket == null ? Optional.empty() : open.records.acceptedAnswer(bucket, Keys.idBytes(id(name)));
  }

  @Test
  void completesEachChangeInQueueOrderOnceTheWholeBatchIsCommitted() {
    open(JournalOptions.DEFAULT);
    List<ChangeTask> batch = open.batch(
        delivery("m1", 1, ALICE, BOB),
        StorageChange.builder().expectAbsent("s", "k").put("s", "k", "1".getBytes(UTF_8)).build(),
        StorageChange.builder().expectAbsent("s", "k").put("s", "k", "2".getBytes(UTF_8)).build(),
        delivery("m2", 2, ALICE, BOB));
    List<String> seen = new ArrayList<>();
    for (int i = 0; i < batch.size(); i++) {
      int index = i;
      batch.get(i).future.whenComplete((cursors, e) ->
          seen.add(index + ": " + open.transaction.commits() + " commit, last cursor " + open.view.lastCursor(BOB)));
    }

    List<CompletableFuture<List<Long>>> futures = commit(batch);
    assertEquals(
        List.of("0: 1 commit, last cursor 2", "1: 1 commit, last cursor 2", "2: 1 commit, last cursor 2",
            "3: 1 commit, last cursor 2"),
        seen);
    assertEquals(List.of(1L), futures.get(0).join());
    assertEquals(List.of(), futures.get(1).join());
    assertInstanceOf(ConflictException.class, failure(futures.get(2)));
    assertEquals(List.of(2L), futures.get(3).join());
    assertEquals("1", new String(open.view.values.get("s", "k").orElseThrow(), UTF_8),
        "the refused change wrote nothing");
    assertEquals(4, writer.committedChanges());
    assertTrue(open.view.pendingIds.isEmpty());
  }

  @Test
  void aFailedBatchIsRolledBackWithoutATraceAndTheNextIsServed() {
    open(JournalOptions.DEFAULT);
    AtomicBoolean failOnce = new AtomicBoolean(true);
    open.transaction.beforeCommit = () -> {
      if (failOnce.getAndSet(false)) {
        throw new IllegalStateException("disk on fire");
      }
    };
    List<CompletableFuture<List<Long>>> failed = commit(open.batch(
        StorageChange.builder().bindKey(CAROL, key("c1")).accept(id("m1"), 1, ack("m1"))
            .append(BOB, entry("m1", ALICE, 1)).put("s", "k", "v".getBytes(UTF_8)).build(),
        delivery("m2", 2, ALICE, CAROL)));
    for (CompletableFuture<List<Long>> f : failed) {
      assertEquals("disk on fire", failure(f).getMessage());
    }
    assertEquals(1, open.view.rollbacks.get());
    assertNull(open.failure.failed(), "the storage goes on");
    assertTrue(open.view.pendingIds.isEmpty());
    assertEquals(Optional.empty(), open.view.values.get("s", "k"));
    assertEquals(Optional.empty(), open.view.addressOf(key("c1")));
    assertEquals(Optional.empty(), acceptedAnswer("m1"));
    assertTrue(open.store.mailbox.isEmpty() && open.store.addresses.isEmpty());

    // The address ids the failed batch took are given again.
    assertEquals(List.of(1L), commit(open.batch(delivery("m3", 3, ALICE, DAVE))).get(0).join());
    assertEquals(1L, open.store.addresses.get(DAVE.toString()));
    assertEquals(1, writer.committedChanges());
  }

  @Test
  void aBatchTooLargeForOneRecordIsCommittedInHalvesAndOnlyTheChangeTooLargeFails() {
    open(JournalOptions.DEFAULT.withMaxRecordBody(256 << 10));
    MailboxEntry huge = MailboxEntry.direct(id("big"), ALICE, 2, message("big", 600_000));
    List<CompletableFuture<List<Long>>> futures = commit(open.batch(
        delivery("s0", 1, ALICE, BOB),
        delivery("s1", 1, ALICE, BOB),
        StorageChange.builder().accept(id("big"), 2, ack("big")).append(BOB, huge).build(),
        delivery("s2", 3, ALICE, BOB),
        delivery("s3", 3, ALICE, BOB)));

    assertEquals(List.of(1L), futures.get(0).join());
    assertEquals(List.of(2L), futures.get(1).join());
    assertInstanceOf(RecordTooLargeException.class, failure(futures.get(2)));
    assertEquals(List.of(3L), futures.get(3).join());
    assertEquals(List.of(4L), futures.get(4).join());
    // [s0 s1] and [s2 s3] committed; [big s2 s3] and [big] rolled back.
    assertEquals(2, open.transaction.commits());
    assertEquals(3, open.view.rollbacks.get());
    assertNull(open.failure.failed(), "the storage goes on");
    assertEquals(Optional.empty(), acceptedAnswer("big"));
  }

  @Test
  void afterAFailureForGoodEveryChangeFailsWithItAndNothingIsWritten() {
    open(JournalOptions.DEFAULT);
    StorageFailedException failed = open.failure.fail("the disk is gone", null);
    List<CompletableFuture<List<Long>>> futures = commit(open.batch(delivery("m1", 1, ALICE, BOB)));
    assertSame(failed, failure(futures.get(0)));
    assertEquals(0, open.transaction.commits());
    assertTrue(open.store.mailbox.isEmpty());
  }
}
