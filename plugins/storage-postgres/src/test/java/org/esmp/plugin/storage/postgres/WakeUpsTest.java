package org.esmp.plugin.storage.postgres;

import static org.esmp.api.testkit.StorageFixtures.address;
import static org.esmp.api.testkit.StorageFixtures.delivery;
import static org.esmp.api.testkit.StorageFixtures.entry;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.esmp.api.Address;
import org.esmp.api.spi.MailboxWatcher;
import org.esmp.api.spi.StorageChange;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Wake-ups across two storages on one database (two servers of a cluster): LISTEN/NOTIFY. */
class WakeUpsTest {

  private static final Address ALICE = address("alice");
  private static final Address BOB = address("bob");
  private static final Address CAROL = address("carol");

  @RegisterExtension static final PostgresDatabases databases = new PostgresDatabases();
  private PostgresStorage one;
  private PostgresStorage two;

  @BeforeEach
  void twoNodes() {
    one = databases.open(4);
    two = databases.open(4);
  }

  @Test
  void closeStopsTheNotifierAndListenerThreadsPromptly() throws Exception {
    one.watch(new Watcher());
    two.watch(new Watcher());
    two.commit(delivery("last", 1, ALICE, BOB)).toCompletableFuture().join();
    long threads = channelThreads();
    long began = System.nanoTime();
    one.close();
    two.close();
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);
    one = null;
    System.out.printf("storage-postgres: two watching storages closed in %d ms%n", millis);
    assertTrue(millis < 2_000, millis + " ms");
    assertEquals(threads - 4, channelThreads(), "each storage's notifier and listener stopped");
  }

  private static long channelThreads() {
    return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive)
        .filter(t -> t.getName().startsWith("storage-postgres-notify") || t.getName().startsWith("storage-postgres-listen"))
        .count();
  }

  @Test
  void theOtherNodesAppendsReachTheWatcherWithTheNewestCursorAndItsOwnDoNot() throws Exception {
    Watcher onOne = new Watcher();
    Watcher onTwo = new Watcher();
    one.watch(onOne);
    two.watch(onTwo);

    List<Address> addresses = List.of(ALICE, BOB, CAROL, address("dave"), address("erin"));
    for (int i = 0; i < 20; i++) {
      StorageChange.Builder change = StorageChange.builder();
      // Each change appends to a few of them, one of them twice.
      for (int k = 0; k <= i % 3; k++) {
        change.append(addresses.get((i + k) % addresses.size()), entry("m" + i + "-" + k, ALICE, i));
      }
      change.append(addresses.get(i % addresses.size()), entry("again" + i, ALICE, i));
      one.commit(change.build()).toCompletableFuture().join();
    }
    for (Address address : addresses) {
      long last = one.lastCursor(address);
      assertTrue(last > 1);
      onTwo.await(address, last);
    }
    // Then the other way: so that one's watcher works, and had nothing of its own to hear.
    two.commit(delivery("from-two", 1, BOB, ALICE)).toCompletableFuture().join();
    onOne.await(ALICE, two.lastCursor(ALICE));
    assertEquals(Map.of(ALICE, two.lastCursor(ALICE)), onOne.newest, "one hears only two's append");
    assertEquals(0, onOne.missed.get() + onTwo.missed.get());
  }

  /** Prints the median latency; asserts only a generous bound. */
  @Test
  void anAppendReachesTheOtherNodeSoonAfterItsCommit() throws Exception {
    Watcher onTwo = new Watcher();
    two.watch(onTwo);
    List<Long> latencies = new ArrayList<>();
    for (int i = 1; i <= 100; i++) {
      one.commit(delivery("latency-" + i, i, ALICE, BOB)).toCompletableFuture().join();
      long committed = System.nanoTime();
      long heard = onTwo.await(BOB, i);
      // The hint leaves right after COMMIT, before the commit's stage completes: it may be first.
      latencies.add(Math.max(0, heard - committed));
    }
    latencies.sort(Long::compare);
    System.out.printf("storage-postgres wake-ups: from a commit completing on one node to the watcher of the other:"
        + " median %.2f ms, p90 %.2f ms, max %.2f ms (100 commits, one at a time, loopback)%n",
        latencies.get(50) / 1e6, latencies.get(90) / 1e6, latencies.get(99) / 1e6);
    assertTrue(latencies.get(99) < TimeUnit.SECONDS.toNanos(5));
  }

  @Test
  void aChangeAppendingToHundredsOfAddressesArrivesWhole() throws Exception {
    Watcher onTwo = new Watcher();
    two.watch(onTwo);
    StorageChange.Builder change = StorageChange.builder();
    List<Address> many = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      // 60-character local parts: about 80 bytes a line, 32 kB of hints in all.
      Address address = address(String.format("member-%04d-", i) + "x".repeat(48));
      many.add(address);
      change.append(address, entry("big-" + i, ALICE, i));
    }
    one.commit(change.build()).toCompletableFuture().join();
    for (Address address : many) {
      onTwo.await(address, 1);
    }
    assertEquals(400, onTwo.newest.size());
  }

  @Test
  void aKilledListenerConnectionCallsMissedThenHearsAgain() throws Exception {
    Watcher onTwo = new Watcher();
    two.watch(onTwo);
    one.commit(delivery("before", 1, ALICE, BOB)).toCompletableFuture().join();
    onTwo.await(BOB, 1);

    assertEquals(1, terminate("esmp-storage-postgres-listen"));
    onTwo.awaitMissed(1);
    // Payloads not ours on the channel are ignored.
    try (Connection connection = DriverManager.getConnection(databases.url());
        Statement statement = connection.createStatement()) {
      statement.execute("SELECT pg_notify('" + Hints.CHANNEL + "', 'hello'), pg_notify('" + Hints.CHANNEL
          + "', 'v1 someone\nbob#example.com 99 x')");
    }
    one.commit(delivery("after", 2, ALICE, BOB)).toCompletableFuture().join();
    onTwo.await(BOB, 2);
    assertEquals(1, onTwo.missed.get());
  }

  @Test
  void aFailedNotifyNeverFailsTheCommitAndTellsTheOthersToCatchUp() throws Exception {
    Watcher onTwo = new Watcher();
    two.watch(onTwo);
    one.commit(delivery("first", 1, ALICE, BOB)).toCompletableFuture().join();
    onTwo.await(BOB, 1);

    // One's notify connection (two's opens when it first has something to tell): its next notify fails.
    assertEquals(1, terminate("esmp-storage-postgres-notify"));
    one.commit(delivery("second", 2, ALICE, BOB)).toCompletableFuture().join();
    onTwo.awaitMissed(1);
    one.commit(delivery("third", 3, ALICE, BOB)).toCompletableFuture().join();
    onTwo.await(BOB, 3);
  }

  /** Terminates the backends of {@code applicationName} on this test's database; returns how many. */
  private int terminate(String applicationName) throws SQLException {
    try (Connection connection = DriverManager.getConnection(databases.url());
        Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            + " WHERE application_name = '" + applicationName + "' AND datname = current_database()")) {
      rows.next();
      return rows.getInt(1);
    }
  }

  /** Records what it is told, with the time it was told. */
  private static final class Watcher implements MailboxWatcher {
    final Map<Address, Long> newest = new ConcurrentHashMap<>();
    final Map<String, Long> heardAt = new ConcurrentHashMap<>();
    final AtomicInteger missed = new AtomicInteger();

    @Override
    public synchronized void appended(Address address, long cursor) {
      long now = System.nanoTime();
      newest.merge(address, cursor, Math::max);
      heardAt.putIfAbsent(address + " " + cursor, now);
      notifyAll();
    }

    @Override
    public synchronized void missed() {
      missed.incrementAndGet();
      notifyAll();
    }

    /** Waits until told {@code address} has {@code cursor} (or more); returns when it was told. */
    synchronized long await(Address address, long cursor) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (newest.getOrDefault(address, 0L) < cursor) {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        assertTrue(left > 0, "no wake-up for " + address + " up to " + cursor + " within 5 s; got " + newest.get(address));
        wait(left);
      }
      assertEquals(cursor, newest.get(address), "the newest cursor of " + address);
      Long at = heardAt.get(address + " " + cursor);
      return at == null ? System.nanoTime() : at;
    }

    synchronized void awaitMissed(int times) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (missed.get() < times) {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        assertTrue(left > 0, "missed() not called within 10 s");
        wait(left);
      }
    }
  }
}
