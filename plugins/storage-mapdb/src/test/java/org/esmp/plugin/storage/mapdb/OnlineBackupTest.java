package org.esmp.plugin.storage.mapdb;

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

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.esmp.api.Address;
import org.esmp.api.MailboxEntry;
import org.esmp.api.spi.StorageChange;
import org.esmp.api.testkit.StorageFixtures;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The online backup of {@link MapDbStorage}, on real files: taken while commits go on, opened as a store. */
class OnlineBackupTest {

  private static final Address ALICE = address("alice");
  private static final Address BOB = address("bob");
  private static final Address CAROL = address("carol");

  @TempDir Path data;
  @TempDir Path backups;
  private final List<MapDbStorage> opened = new ArrayList<>();
  private final ExecutorService pool = Executors.newCachedThreadPool();

  @AfterEach
  void closeAll() {
    pool.shutdownNow();
    opened.forEach(MapDbStorage::close);
  }

  private MapDbStorage open(Path dataDirectory) {
    MapDbStorage storage = new MapDbStorage(StorageContexts.of(dataDirectory));
    opened.add(storage);
    return storage;
  }

  private static <T> T await(CompletableFuture<T> future) throws Exception {
    return future.get(60, TimeUnit.SECONDS);
  }

  private static List<Long> commit(MapDbStorage storage, StorageChange change) throws Exception {
    return await(storage.commit(change).toCompletableFuture());
  }

  private static void backup(MapDbStorage storage, Path directory) throws Exception {
    await(storage.backup(directory).toCompletableFuture());
  }

  private static List<String> files(Path directory) throws Exception {
    try (Stream<Path> files = Files.list(directory)) {
      return files.map(f -> f.getFileName().toString()).sorted().toList();
    }
  }

  /** The generations of the live store's journals: a checkpoint starts the next one. */
  private List<String> journals() throws Exception {
    return files(data.resolve(MapDbStorage.DIRECTORY)).stream().filter(name -> name.contains(".journal.")).toList();
  }

  @Test
  void aBackupOpensAsTheStoreWasWithOneFileAndNoJournal() throws Exception {
    MapDbStorage storage = open(data);
    MailboxEntry thread =
        new MailboxEntry(0, id("g1"), ALICE, 2000, StorageFixtures.message("g1", 300), Optional.of("g-1"), OptionalLong.of(1));
    commit(storage, StorageChange.builder().bindKey(ALICE, key("alice-1")).bindKey(ALICE, key("alice-2")).build());
    commit(storage, StorageChange.builder().bindKey(BOB, key("bob-1")).build());
    commit(storage, delivery("m1", 1000, ALICE, BOB, CAROL));
    commit(storage, StorageChange.builder().put("group-threads.groups", "g-1", "state".getBytes(StandardCharsets.UTF_8))
        .keep("group-threads.thread", "g-1/1", thread).append(BOB, thread).append(ALICE, thread).build());
    storage.beginCheckpoint(); // part of the store in the file, part in the journal
    commit(storage, delivery("m2", 3000, BOB, ALICE));

    backup(storage, backups);

    assertEquals(List.of(MapDbStorage.DIRECTORY), files(backups));
    assertEquals(List.of(MapDbStorage.FILE_NAME), files(backups.resolve(MapDbStorage.DIRECTORY)),
        "the journal is replayed into the copy");
    MapDbStorage copy = open(backups);
    assertEquals(List.of(key("alice-1"), key("alice-2")), copy.keysOf(ALICE));
    assertEquals(Optional.of(BOB), copy.addressOf(key("bob-1")));
    assertEquals(storage.readMailbox(BOB, 0, 100), copy.readMailbox(BOB, 0, 100));
    assertEquals(storage.readMailbox(ALICE, 0, 100), copy.readMailbox(ALICE, 0, 100));
    assertEquals(storage.readMailbox(CAROL, 0, 100), copy.readMailbox(CAROL, 0, 100));
    assertEquals(2, copy.readMailbox(BOB, 0, 100).size());
    assertEquals(Optional.of(ack("m2")), copy.acceptedAnswer(id("m2")));
    assertArrayEquals("state".getBytes(StandardCharsets.UTF_8), copy.get("group-threads.groups", "g-1").orElseThrow());
    assertEquals(Optional.of(thread), copy.entry("group-threads.thread", "g-1/1"));
  }

  /**
   * Commits made while the backup copies go on and complete (they are not held up until it ends),
   * and are not in the backup: it is the store at its backup point. Checkpoints wait meanwhile.
   */
  @Test
  void commitsGoOnWhileTheBackupCopiesAndAreNotInIt() throws Exception {
    MapDbStorage storage = open(data);
    commit(storage, StorageChange.builder().bindKey(ALICE, key("alice-1")).build());
    commit(storage, delivery("before", 1000, ALICE, BOB));
    List<String> journalsAtPoint = new ArrayList<>();
    storage.afterBackupPoint(() -> {
      try {
        commit(storage, delivery("during", 2000, ALICE, BOB));
        commit(storage, StorageChange.builder().bindKey(CAROL, key("carol-1")).build());
        journalsAtPoint.addAll(journals());
        storage.beginCheckpoint(); // held: no checkpoint writes into the file being copied
        assertEquals(journalsAtPoint, journals(), "no checkpoint starts while the backup copies");
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    });

    backup(storage, backups);

    MapDbStorage copy = open(backups);
    assertEquals(List.of("before"), ids(copy.readMailbox(BOB, 0, 100)));
    assertEquals(List.of(), copy.keysOf(CAROL));
    assertEquals(Optional.empty(), copy.acceptedAnswer(id("during")));
    assertEquals(List.of("before", "during"), ids(storage.readMailbox(BOB, 0, 100)));

    storage.beginCheckpoint(); // checkpoints resumed: the next generation starts
    assertFalse(journals().equals(journalsAtPoint), "a checkpoint ran once the backup was done");
    commit(storage, delivery("after", 3000, ALICE, BOB));
    storage.close();
    MapDbStorage reopened = open(data);
    assertEquals(List.of("before", "during", "after"), ids(reopened.readMailbox(BOB, 0, 100)));
    assertEquals(List.of(key("carol-1")), reopened.keysOf(CAROL));
  }

  /**
   * Under a load of writers, the backup holds every change whose commit completed before it was
   * called, and each change it holds whole: the message in every mailbox it went to, with its
   * accepted record.
   */
  @Test
  void holdsEveryChangeCommittedBeforeTheCallAndEachChangeWhole() throws Exception {
    MapDbStorage storage = open(data);
    Address[] recipients = {address("r1"), address("r2"), address("r3")};
    ConcurrentLinkedQueue<String> committed = new ConcurrentLinkedQueue<>();
    AtomicBoolean running = new AtomicBoolean(true);
    List<Future<?>> writers = new ArrayList<>();
    for (int w = 0; w < 4; w++) {
      int writer = w;
      writers.add(pool.submit(() -> {
        for (int n = 0; running.get(); n++) {
          String name = "w" + writer + "-" + n;
          commit(storage, delivery(name, 1000 + n, ALICE, recipients));
          committed.add(name);
        }
        return null;
      }));
    }
    while (committed.size() < 200) {
      Thread.sleep(5);
    }
    Set<String> before = Set.copyOf(committed);
    backup(storage, backups);
    running.set(false);
    for (Future<?> writer : writers) {
      writer.get(60, TimeUnit.SECONDS);
    }

    MapDbStorage copy = open(backups);
    List<String> inBackup = ids(copy.readMailbox(recipients[0], 0, Integer.MAX_VALUE));
    assertTrue(inBackup.containsAll(before), "every change committed before the call is in the backup");
    assertTrue(committed.containsAll(inBackup), "nothing but committed changes");
    for (Address recipient : recipients) {
      assertEquals(inBackup, ids(copy.readMailbox(recipient, 0, Integer.MAX_VALUE)),
          "each change whole: in every mailbox it went to, in the same order");
    }
    for (String name : inBackup) {
      assertEquals(Optional.of(ack(name)), copy.acceptedAnswer(id(name)));
    }
  }

  @Test
  void aFailedBackupLeavesTheStoreServingAndCheckpointing() throws Exception {
    MapDbStorage storage = open(data);
    commit(storage, delivery("m1", 1000, ALICE, BOB));
    storage.afterBackupPoint(() -> {
      throw new IllegalStateException("the copy broke");
    });
    ExecutionException failed = assertThrows(ExecutionException.class, () -> backup(storage, backups));
    assertInstanceOf(IllegalStateException.class, failed.getCause());

    List<String> before = journals();
    commit(storage, delivery("m2", 2000, ALICE, BOB));
    storage.beginCheckpoint();
    commit(storage, delivery("m3", 3000, ALICE, BOB));
    assertFalse(journals().equals(before), "checkpoints resumed after the failed copy");
    assertEquals(List.of("m1", "m2", "m3"), ids(storage.readMailbox(BOB, 0, 100)));

    storage.afterBackupPoint(() -> {});
    Path again = backups.resolve("again");
    Files.createDirectory(again);
    backup(storage, again);
    assertEquals(List.of("m1", "m2", "m3"), ids(open(again).readMailbox(BOB, 0, 100)));
  }

  @Test
  void refusesADirectoryThatHoldsAStoreAlready() throws Exception {
    MapDbStorage storage = open(data);
    commit(storage, delivery("m1", 1000, ALICE, BOB));
    Files.createDirectory(backups.resolve(MapDbStorage.DIRECTORY));
    ExecutionException failed = assertThrows(ExecutionException.class, () -> backup(storage, backups));
    assertTrue(failed.getCause().getMessage().contains("exists already"), failed.getCause().getMessage());
  }

  @Test
  void listsCommittedAddressesInTheirOrderAPageAtATime() throws Exception {
    MapDbStorage storage = open(data);
    commit(storage, StorageChange.builder().bindKey(CAROL, key("carol-1")).bindKey(ALICE, key("alice-1")).build());
    commit(storage, StorageChange.builder().bindKey(BOB, key("bob-1")).bindKey(BOB, key("bob-2")).build());
    commit(storage, delivery("m1", 1000, ALICE, address("dave"))); // a mailbox without keys is no address
    assertEquals(List.of(ALICE, BOB), storage.addresses("", 2));
    assertEquals(List.of(CAROL), storage.addresses(BOB.toString(), 2));
    commit(storage, StorageChange.builder().unbindKey(BOB, key("bob-1")).unbindKey(BOB, key("bob-2")).build());
    assertEquals(List.of(ALICE, CAROL), storage.addresses("", 10));
    storage.close();
    assertEquals(List.of(ALICE, CAROL), open(data).addresses("", 10), "the same after a reopen");
  }

  private static List<String> ids(List<MailboxEntry> entries) {
    List<String> names = new ArrayList<>();
    for (MailboxEntry e : entries) {
      String text = e.message().get("body").asObject().string("text").orElseThrow();
      names.add(text.substring(0, text.indexOf(' ')));
    }
    return names;
  }
}
