package org.esmp.plugin.storage.mapdb;

import static org.esmp.api.testkit.StorageFixtures.address;
import static org.esmp.api.testkit.StorageFixtures.delivery;
import static org.esmp.api.testkit.StorageFixtures.entry;
import static org.esmp.api.testkit.StorageFixtures.id;
import static org.esmp.api.testkit.StorageFixtures.message;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.esmp.api.Address;
import org.esmp.api.MailboxEntry;
import org.esmp.api.StorageFailedException;
import org.esmp.api.spi.StorageChange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The commit thread and its queue: batching, what fails at once, close. */
class GroupCommitterTest {

  private static final Address ALICE = address("alice");
  private static final Address BOB = address("bob");

  @TempDir Path dir;
  private OpenStore open;
  private GroupCommitter committer;
  private final CountDownLatch held = new CountDownLatch(1);
  private final CountDownLatch release = new CountDownLatch(1);

  /** Starts a committer on a new store; it closes the store when it is closed. */
  private void start(int maxQueued) {
    open = new OpenStore(dir);
    committer = new GroupCommitter(open.store, open.view, open.records, open.failure, maxQueued);
    committer.start();
  }

  @AfterEach
  void close() {
    release.countDown();
    if (committer != null) {
      committer.close();
    }
  }

  /** Holds the commit thread before its first commit until {@link #release} is counted down. */
  private void holdFirstCommit() {
    AtomicBoolean first = new AtomicBoolean(true);
    committer.beforeCommit(() -> {
      if (first.getAndSet(false)) {
        held.countDown();
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    });
  }

  private void awaitHeld() throws InterruptedException {
    assertTrue(held.await(10, TimeUnit.SECONDS));
  }

  private static <T> T await(CompletableFuture<T> future) throws Exception {
    return future.get(30, TimeUnit.SECONDS);
  }

  /** The failure {@code future} completed with already. */
  private static Throwable failedAtOnce(CompletableFuture<?> future) {
    assertTrue(future.isDone(), "failed at once");
    return assertThrows(ExecutionException.class, future::get).getCause();
  }

  @Test
  void batchesTheChangesQueuedWhileACommitRuns() throws Exception {
    start(100);
    holdFirstCommit();
    List<CompletableFuture<List<Long>>> futures = new ArrayList<>();
    futures.add(committer.submit(delivery("m0", 0, ALICE, BOB)));
    awaitHeld();
    for (int i = 1; i <= 10; i++) {
      futures.add(committer.submit(delivery("m" + i, i, ALICE, BOB)));
    }
    release.countDown();
    for (int i = 0; i <= 10; i++) {
      assertEquals(List.of(i + 1L), await(futures.get(i)));
    }
    assertEquals(2, committer.dbCommits());
    assertEquals(11, committer.committedChanges());
  }

  @Test
  void aBatchEndsOnceItReachesMaxBatchWeight() throws Exception {
    start(100);
    holdFirstCommit();
    CompletableFuture<List<Long>> first = committer.submit(delivery("m0", 0, ALICE, BOB));
    awaitHeld();
    // Each weighs a quarter of the limit and one more: four fill a batch.
    int appends = GroupCommitter.MAX_BATCH_WEIGHT / 4;
    MailboxEntry small = MailboxEntry.direct(id("small"), ALICE, 1, message("small", 0));
    List<CompletableFuture<List<Long>>> heavy = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      StorageChange.Builder change = StorageChange.builder();
      for (int a = 0; a < appends; a++) {
        change.append(BOB, small);
      }
      heavy.add(committer.submit(change.build()));
    }
    release.countDown();
    await(first);
    for (CompletableFuture<List<Long>> f : heavy) {
      assertEquals(appends, await(f).size());
    }
    assertEquals(3, committer.dbCommits(), "the first change, four heavy ones, the last");
  }

  @Test
  void aChangeBeyondTheQueueLimitFailsAtOnce() throws Exception {
    start(2);
    holdFirstCommit();
    CompletableFuture<List<Long>> committing = committer.submit(delivery("m0", 0, ALICE, BOB));
    awaitHeld();
    List<CompletableFuture<List<Long>>> queued =
        List.of(committer.submit(delivery("m1", 1, ALICE, BOB)), committer.submit(delivery("m2", 2, ALICE, BOB)));
    CompletableFuture<List<Long>> beyond = committer.submit(delivery("m3", 3, ALICE, BOB));
    assertInstanceOf(RejectedExecutionException.class, failedAtOnce(beyond));

    release.countDown();
    assertEquals(List.of(1L), await(committing));
    assertEquals(List.of(2L), await(queued.get(0)));
    assertEquals(List.of(3L), await(queued.get(1)));
    assertEquals(List.of(4L), await(committer.submit(delivery("m4", 4, ALICE, BOB))), "the queue drained");
  }

  @Test
  void aChangeThatCannotBeEncodedFailsAloneAtOnce() throws Exception {
    start(100);
    CompletableFuture<List<Long>> bad =
        committer.submit(StorageChange.builder().put("", "k", new byte[1]).append(BOB, entry("x", ALICE, 0)).build());
    assertInstanceOf(IllegalArgumentException.class, failedAtOnce(bad));
    assertEquals(List.of(1L), await(committer.submit(delivery("m1", 1, ALICE, BOB))));
  }

  @Test
  void afterAFailureForGoodChangesAndTrimsFailAtOnceWithIt() {
    start(100);
    StorageFailedException failure = open.failure.fail("the disk is gone", null);
    assertSame(failure, failedAtOnce(committer.submit(delivery("m1", 1, ALICE, BOB))));
    assertSame(failure, failedAtOnce(committer.trim(10)));
  }

  @Test
  void closeCommitsTheQueuedChangesFailsTrimsNotEndedAndClosesTheStore() throws Exception {
    start(100);
    holdFirstCommit();
    CompletableFuture<List<Long>> committing = committer.submit(delivery("m0", 0, ALICE, BOB));
    awaitHeld();
    CompletableFuture<Long> trim = committer.trim(10);
    CompletableFuture<List<Long>> queued = committer.submit(delivery("m1", 1, ALICE, BOB));
    Thread closer = new Thread(committer::close, "closer");
    closer.start();
    // Waiting in join: close has queued its stop behind the trim and the change.
    while (closer.getState() != Thread.State.WAITING) {
      Thread.sleep(1);
    }
    assertInstanceOf(IllegalStateException.class, failedAtOnce(committer.submit(delivery("late", 2, ALICE, BOB))));

    release.countDown();
    closer.join(TimeUnit.SECONDS.toMillis(30));
    assertFalse(closer.isAlive(), "close waited for the commit thread");
    assertEquals(List.of(1L), await(committing));
    assertEquals(List.of(2L), await(queued));
    assertInstanceOf(IllegalStateException.class, assertThrows(ExecutionException.class, () -> await(trim)).getCause());
    assertTrue(open.store.db.isClosed());
  }
}
