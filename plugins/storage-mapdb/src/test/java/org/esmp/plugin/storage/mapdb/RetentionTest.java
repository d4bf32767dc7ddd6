package org.esmp.plugin.storage.mapdb;

import static org.esmp.api.testkit.StorageFixtures.ack;
import static org.esmp.api.testkit.StorageFixtures.address;
import static org.esmp.api.testkit.StorageFixtures.delivery;
import static org.esmp.api.testkit.StorageFixtures.id;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.esmp.api.Address;
import org.esmp.api.MessageId;
import org.esmp.api.StorageFailedException;
import org.esmp.api.spi.StorageChange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Trims of a real store in chunks, run one by one on the test's thread as between batches. */
class RetentionTest {

  private static final Address ALICE = address("alice");
  private static final Address BOB = address("bob");
  private static final Address CAROL = address("carol");

  @TempDir Path dir;
  private OpenStore open;
  private BatchWriter writer;

  @BeforeEach
  void open() {
    open = new OpenStore(dir);
    writer = open.writer();
  }

  @AfterEach
  void close() {
    open.close();
  }

  private Retention retention(int chunk) {
    return new Retention(open.store, open.view, open.transaction, open.failure, chunk);
  }

  /** Message {@code name} received (and accepted) at {@code at} by {@code to}. */
  private void deliver(String name, long at, Address... to) {
    ChangeTask task = open.task(delivery(name, at, ALICE, to));
    writer.commit(List.of(task));
    task.future.join();
  }

  private static Retention.Trim trim(long receivedBefore) {
    return new Retention.Trim(receivedBefore, new CompletableFuture<>());
  }

  /** Runs {@code trim} chunk by chunk to its end; returns how many chunks it took. */
  private static int runToEnd(Retention retention, Retention.Trim trim) {
    int chunks = 1;
    while (!retention.trimChunk(trim)) {
      chunks++;
    }
    return chunks;
  }

  private List<Long> cursors(Address address) {
    long id = open.store.addresses.get(address.toString());
    return open.store.mailbox.keySet().stream().filter(k -> Keys.addressId(k) == id).map(Keys::cursor).toList();
  }

  private boolean isAccepted(MessageId id) {
    byte[] bucket = open.store.accepted.get(Keys.idPrefix(id));
    return bucket != null && open.records.acceptedAnswer(bucket, Keys.idBytes(id)).isPresent();
  }

  @Test
  void deletesEachMailboxOldestFirstUpToTheTimeAndKeepsItsLastCursor() {
    for (int i = 1; i <= 5; i++) {
      deliver("m" + i, i * 100L, i % 2 == 0 ? new Address[] {BOB, CAROL} : new Address[] {BOB});
    }
    long commits = open.transaction.commits();
    Retention.Trim trim = trim(350);

    assertEquals(1, runToEnd(retention(Retention.TRIM_CHUNK), trim));
    assertEquals(4L, trim.future.join(), "m1, m2 and m3 for bob, m2 for carol");
    assertEquals(commits + 1, open.transaction.commits());
    assertEquals(List.of(4L, 5L), cursors(BOB));
    assertEquals(List.of(2L), cursors(CAROL));
    assertEquals(Map.of(1L, 5L, 2L, 2L), Map.copyOf(open.store.lastCursors));
    assertEquals(List.of(false, false, false, true, true),
        List.of(isAccepted(id("m1")), isAccepted(id("m2")), isAccepted(id("m3")), isAccepted(id("m4")),
            isAccepted(id("m5"))));
    assertEquals(List.of(400L, 500L), List.copyOf(open.store.acceptedByTime.keySet()));
  }

  @Test
  void runsInChunksOfItsSizeEachItsOwnCommit() {
    for (int i = 1; i <= 7; i++) {
      deliver("m" + i, i, BOB);
    }
    long commits = open.transaction.commits();
    Retention retention = retention(3);
    Retention.Trim trim = trim(8);
    List<String> left = new ArrayList<>();
    boolean over;
    do {
      over = retention.trimChunk(trim);
      left.add(open.store.mailbox.size() + " entries, " + open.store.accepted.size() + " records");
    } while (!over);

    // Entries first, three at a time; then records, whole milliseconds until three or more.
    assertEquals(
        List.of("4 entries, 7 records", "1 entries, 7 records", "0 entries, 5 records", "0 entries, 2 records",
            "0 entries, 0 records"),
        left);
    assertEquals(commits + 5, open.transaction.commits());
    assertEquals(7L, trim.future.join());
    assertTrue(open.store.acceptedByTime.isEmpty());
  }

  @Test
  void acceptedRecordsGoAWholeMillisecondAtATime() {
    writer.commit(open.batch(
        StorageChange.builder().accept(id("a"), 5, ack("a")).build(),
        StorageChange.builder().accept(id("b"), 5, ack("b")).build(),
        StorageChange.builder().accept(id("c"), 5, ack("c")).build(),
        StorageChange.builder().accept(id("d"), 6, ack("d")).build()));
    Retention retention = retention(2);
    Retention.Trim trim = trim(10);

    assertFalse(retention.trimChunk(trim));
    assertEquals(List.of(false, false, false, true),
        List.of(isAccepted(id("a")), isAccepted(id("b")), isAccepted(id("c")), isAccepted(id("d"))));
    assertTrue(retention.trimChunk(trim));
    assertFalse(isAccepted(id("d")));
    assertTrue(open.store.acceptedByTime.isEmpty());
  }

  @Test
  void mailboxesCreatedAfterTheFirstChunkAreLeftToTheNextTrim() {
    deliver("m1", 1, BOB);
    deliver("m2", 2, BOB);
    Retention retention = retention(1);
    Retention.Trim trim = trim(10);
    assertFalse(retention.trimChunk(trim));
    deliver("m3", 3, CAROL);

    runToEnd(retention, trim);
    assertEquals(2L, trim.future.join());
    assertEquals(List.of(), cursors(BOB));
    assertEquals(List.of(1L), cursors(CAROL));
  }

  @Test
  void theOtherRecordsOfABucketStay() {
    MessageId first = new MessageId("0123456789abcdef" + "1".repeat(48));
    MessageId second = new MessageId("0123456789abcdef" + "2".repeat(48));
    writer.commit(open.batch(
        StorageChange.builder().accept(first, 100, ack("first")).build(),
        StorageChange.builder().accept(second, 200, ack("second")).build()));
    Retention.Trim trim = trim(150);

    runToEnd(retention(Retention.TRIM_CHUNK), trim);
    assertEquals(0L, trim.future.join());
    assertFalse(isAccepted(first));
    assertTrue(isAccepted(second));
    assertEquals(List.of(200L), List.copyOf(open.store.acceptedByTime.keySet()));
  }

  @Test
  void aFailedChunkIsRolledBackAndEndsItsTrimWithTheFailure() {
    for (int i = 1; i <= 3; i++) {
      deliver("m" + i, i, BOB);
    }
    AtomicBoolean failOnce = new AtomicBoolean(true);
    open.transaction.beforeCommit = () -> {
      if (failOnce.getAndSet(false)) {
        throw new IllegalStateException("disk on fire");
      }
    };
    Retention retention = retention(2);
    Retention.Trim failed = trim(10);

    assertTrue(retention.trimChunk(failed), "a failed chunk ends its trim");
    CompletionException e = assertThrows(CompletionException.class, failed.future::join);
    assertEquals("disk on fire", e.getCause().getMessage());
    assertEquals(1, open.view.rollbacks.get());
    assertEquals(List.of(1L, 2L, 3L), cursors(BOB));

    Retention.Trim again = trim(10);
    assertEquals(3, runToEnd(retention, again), "two entries; one entry and one record; two records");
    assertEquals(3L, again.future.join());
  }

  @Test
  void aTrimAfterAFailureForGoodFailsWithItAndDeletesNothing() {
    deliver("m1", 1, BOB);
    StorageFailedException failure = open.failure.fail("the disk is gone", null);
    Retention.Trim trim = trim(10);

    assertTrue(retention(Retention.TRIM_CHUNK).trimChunk(trim));
    assertSame(failure, assertThrows(CompletionException.class, trim.future::join).getCause());
    assertEquals(List.of(1L), cursors(BOB));
  }
}
