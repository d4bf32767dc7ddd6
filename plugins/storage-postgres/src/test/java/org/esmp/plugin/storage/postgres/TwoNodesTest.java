package org.esmp.plugin.storage.postgres;

import static org.esmp.api.testkit.StorageFixtures.ack;
import static org.esmp.api.testkit.StorageFixtures.address;
import static org.esmp.api.testkit.StorageFixtures.entry;
import static org.esmp.api.testkit.StorageFixtures.id;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.esmp.api.Address;
import org.esmp.api.ConflictException;
import org.esmp.api.DuplicateException;
import org.esmp.api.MailboxEntry;
import org.esmp.api.spi.StorageChange;
import org.esmp.api.testkit.StorageFixtures;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two storages on one database, as two servers of a cluster, committing at once: what the locks
 * promise across nodes.
 */
class TwoNodesTest {

  private static final Address ALICE = address("alice");
  private static final Address BOB = address("bob");
  private static final Address GROUP_MEMBER = address("member");

  @RegisterExtension static final PostgresDatabases databases = new PostgresDatabases();
  private PostgresStorage one;
  private PostgresStorage two;

  @BeforeEach
  void twoNodes() {
    one = databases.open(8);
    two = databases.open(8);
  }

  private static <T> List<T> joinAll(List<CompletableFuture<T>> futures) {
    CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).orTimeout(60, TimeUnit.SECONDS).exceptionally(e -> null).join();
    return futures.stream().map(CompletableFuture::join).toList();
  }

  @Test
  void cursorsAreGaplessPerAddressWithBothNodesAppendingAtOnce() {
    int perNode = 300;
    List<CompletableFuture<List<Long>>> commits = new ArrayList<>();
    for (int i = 0; i < perNode; i++) {
      for (PostgresStorage node : List.of(one, two)) {
        String name = (node == one ? "one-" : "two-") + i;
        // Each change appends to both mailboxes, in an order that differs between nodes: the
        // counters are locked in address order, so they cannot deadlock.
        StorageChange.Builder change = StorageChange.builder().accept(id(name), i, ack(name));
        if (i % 2 == 0) {
          change.append(ALICE, entry(name, BOB, i)).append(BOB, entry(name, ALICE, i));
        } else {
          change.append(BOB, entry(name, ALICE, i)).append(ALICE, entry(name, BOB, i));
        }
        commits.add(node.commit(change.build()).toCompletableFuture());
      }
    }
    List<List<Long>> cursors = joinAll(commits);

    int total = 2 * perNode;
    for (Address address : List.of(ALICE, BOB)) {
      List<MailboxEntry> mailbox = one.readMailbox(address, 0, 10_000);
      assertEquals(LongStream.rangeClosed(1, total).boxed().toList(), mailbox.stream().map(MailboxEntry::cursor).toList());
      assertEquals(total, mailbox.stream().map(MailboxEntry::id).distinct().count(), "no entry twice");
      assertEquals(total, two.lastCursor(address));
    }
    Set<Long> assigned = new HashSet<>();
    cursors.forEach(c -> assigned.add(c.get(0)));
    assertEquals(total, assigned.size(), "every commit was given cursors of its own");
  }

  @Test
  void ofTwoCompareAndSetsOfOneValueOnlyOneWins() {
    byte[] current = ByteBuffer.allocate(8).putLong(0).array();
    one.commit(StorageChange.builder().put("group-threads", "g", current).build()).toCompletableFuture().join();
    int rounds = 40;
    int conflicts = 0;
    for (int round = 1; round <= rounds; round++) {
      byte[] next = ByteBuffer.allocate(8).putLong(round).array();
      List<CompletableFuture<List<Long>>> racing = new ArrayList<>();
      for (PostgresStorage node : List.of(one, two)) {
        // The group's next post: its seq decided from the state read, appended to a member.
        racing.add(node.commit(StorageChange.builder().expect("group-threads", "g", current).put("group-threads", "g", next)
            .append(GROUP_MEMBER, entry("post-" + round + (node == one ? "a" : "b"), ALICE, round)).build())
            .toCompletableFuture());
      }
      int won = 0;
      for (CompletableFuture<List<Long>> r : racing) {
        try {
          r.join();
          won++;
        } catch (CompletionException e) {
          assertInstanceOf(ConflictException.class, e.getCause());
          conflicts++;
        }
      }
      assertEquals(1, won, "round " + round);
      current = next;
    }
    assertEquals(rounds, conflicts);
    assertArrayEquals(current, two.get("group-threads", "g").orElseThrow());
    assertEquals(rounds, one.readMailbox(GROUP_MEMBER, 0, 1000).size());

    // Insert-if-absent, from both at once.
    List<CompletableFuture<List<Long>>> creating = List.of(one, two).stream()
        .map(n -> n.commit(StorageChange.builder().expectAbsent("group-threads", "new").put("group-threads", "new",
            new byte[] {n == one ? (byte) 1 : (byte) 2}).build()).toCompletableFuture()).toList();
    assertEquals(1, creating.stream().filter(f -> !f.handle((v, e) -> e != null).join()).count());
  }

  @Test
  void theSameMessageAcceptedOnBothNodesIsStoredOnceAndOneGetsDuplicate() {
    int rounds = 40;
    int duplicates = 0;
    for (int round = 0; round < rounds; round++) {
      String name = "same-" + round;
      List<CompletableFuture<List<Long>>> both = new ArrayList<>();
      for (PostgresStorage node : List.of(one, two)) {
        both.add(node.commit(StorageChange.builder().accept(id(name), round, ack(name)).append(BOB, entry(name, ALICE, round))
            .build()).toCompletableFuture());
      }
      int stored = 0;
      for (CompletableFuture<List<Long>> f : both) {
        try {
          f.join();
          stored++;
        } catch (CompletionException e) {
          DuplicateException duplicate = assertInstanceOf(DuplicateException.class, e.getCause());
          assertEquals(ack(name), duplicate.answer());
          duplicates++;
        }
      }
      assertEquals(1, stored, "round " + round);
    }
    assertEquals(rounds, duplicates);
    List<MailboxEntry> mailbox = two.readMailbox(BOB, 0, 1000);
    assertEquals(rounds, mailbox.size());
    assertEquals(LongStream.rangeClosed(1, rounds).boxed().toList(), mailbox.stream().map(MailboxEntry::cursor).toList());
  }

  @Test
  void aKeyBoundFromBothNodesAtOnceGoesToOneAddress() {
    for (int round = 0; round < 20; round++) {
      var key = StorageFixtures.key("contested-" + round);
      List<CompletableFuture<List<Long>>> both = List.of(
          one.commit(StorageChange.builder().expectKeys(address("a" + round), List.of()).bindKey(address("a" + round), key).build())
              .toCompletableFuture(),
          two.commit(StorageChange.builder().expectKeys(address("b" + round), List.of()).bindKey(address("b" + round), key).build())
              .toCompletableFuture());
      long failed = both.stream().filter(f -> f.handle((v, e) -> {
        if (e != null) {
          assertInstanceOf(ConflictException.class, e.getCause() != null ? e.getCause() : e);
        }
        return e != null;
      }).join()).count();
      assertEquals(1, failed, "round " + round);
      assertTrue(one.addressOf(key).isPresent());
    }
  }

  /** Not an assertion: a number for the report, printed. */
  @Test
  void measuresCommitsPerSecondFromTwoNodes() {
    int commits = 2000;
    List<CompletableFuture<Long>> latencies = new ArrayList<>();
    long start = System.nanoTime();
    for (int i = 0; i < commits; i++) {
      PostgresStorage node = i % 2 == 0 ? one : two;
      String name = "load-" + i;
      long began = System.nanoTime();
      latencies.add(node.commit(StorageChange.builder().accept(id(name), i, ack(name))
          .append(address("user" + (i % 50)), entry(name, ALICE, i)).build()).toCompletableFuture()
          .thenApply(c -> System.nanoTime() - began));
    }
    List<Long> nanos = new ArrayList<>(joinAll(latencies));
    double seconds = (System.nanoTime() - start) / 1e9;
    nanos.sort(Long::compare);
    System.out.printf("storage-postgres, two nodes, %d direct messages (8 commit threads each, fsync on):"
        + " %.0f commits/s, latency p50 %.1f ms, p99 %.1f ms under that load%n",
        commits, commits / seconds, nanos.get(commits / 2) / 1e6, nanos.get(commits * 99 / 100) / 1e6);
    long[] one1 = {0};
    for (int i = 0; i < 20; i++) {
      long began = System.nanoTime();
      one.commit(StorageChange.builder().append(BOB, entry("single-" + i, ALICE, i)).build()).toCompletableFuture().join();
      one1[0] += System.nanoTime() - began;
    }
    System.out.printf("storage-postgres, one commit at a time: %.2f ms each%n", one1[0] / 20 / 1e6);
  }
}
