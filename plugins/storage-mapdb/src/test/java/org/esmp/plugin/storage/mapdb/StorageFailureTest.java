package org.esmp.plugin.storage.mapdb;

import static org.esmp.api.testkit.StorageFixtures.ack;
import static org.esmp.api.testkit.StorageFixtures.address;
import static org.esmp.api.testkit.StorageFixtures.delivery;
import static org.esmp.api.testkit.StorageFixtures.id;
import static org.esmp.api.testkit.StorageFixtures.message;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.esmp.api.Address;
import org.esmp.api.MailboxEntry;
import org.esmp.api.spi.StorageChange;
import org.esmp.api.StorageFailedException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The storage's error paths on real files, with failures injected into the journal's channels: a
 * failed append, a failed fdatasync and a failed checkpoint each fail the storage for good; a
 * change too large for a record is refused alone; a first start killed at any step leaves files
 * that open.
 */
class StorageFailureTest {

  private static final Address ALICE = address("alice");
  private static final Address BOB = address("bob");

  @TempDir Path data;
  private final List<MapDbStorage> opened = new ArrayList<>();

  @AfterEach
  void closeAll() {
    opened.forEach(MapDbStorage::close);
  }

  private MapDbStorage open(Path dataDir, JournalOptions options) {
    MapDbStorage storage = new MapDbStorage(StorageContexts.of(dataDir), options);
    opened.add(storage);
    return storage;
  }

  private static <T> T await(CompletableFuture<T> future) throws Exception {
    return future.get(30, TimeUnit.SECONDS);
  }

  private static List<Long> commit(MapDbStorage storage, StorageChange change) throws Exception {
    return await(storage.commit(change).toCompletableFuture());
  }

  /** Commits {@code change} and expects it refused with the storage's failure. */
  private static StorageFailedException refused(MapDbStorage storage, StorageChange change) {
    ExecutionException e =
        assertThrows(ExecutionException.class, () -> commit(storage, change));
    return assertInstanceOf(StorageFailedException.class, e.getCause());
  }

  private static StorageFailedException failureOf(MapDbStorage storage) throws Exception {
    return storage.failure().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private Path journal() throws Exception {
    List<Path> journals =
        Journal.journalsOf(data.resolve(MapDbStorage.DIRECTORY).resolve(MapDbStorage.FILE_NAME));
    assertEquals(1, journals.size(), journals.toString());
    return journals.get(0);
  }

  private static List<String> mailbox(MapDbStorage storage, Address address) {
    return storage.readMailbox(address, 0, 100).stream().map(e -> e.id().hex()).toList();
  }

  @Test
  void aFailedAppendIsCutBackAndFailsTheStorageForGood() throws Exception {
    FailingFiles files = FailingFiles.journals();
    MapDbStorage storage = open(data, JournalOptions.DEFAULT.withFiles(files));
    commit(storage, delivery("m1", 1, ALICE, BOB));
    long goodSize = Files.size(journal());
    assertTrue(goodSize > 0);
    assertFalse(storage.failure().toCompletableFuture().isDone());

    files.failWrites = true;
    StorageFailedException failure = refused(storage, delivery("m2", 2, ALICE, BOB));
    assertTrue(failure.getMessage().contains("cannot write the journal"), failure.getMessage());
    assertTrue(failure.getMessage().contains("cut back"), failure.getMessage());
    assertEquals(failure, failureOf(storage));
    assertEquals(goodSize, Files.size(journal()), "the half-written record was cut off");
    assertEquals(1, files.callsAfterFailure.get(), "one force, of the cut back");

    files.failWrites = false; // the disk has room again: still refused, until a restart
    assertEquals(failure, refused(storage, delivery("m3", 3, ALICE, BOB)));
    assertEquals(1, files.callsAfterFailure.get(), "nothing written after the failure");
    assertEquals(Optional.empty(), storage.acceptedAnswer(id("m2")));
    storage.close();

    MapDbStorage reopened = open(data, JournalOptions.DEFAULT);
    assertEquals(List.of(id("m1").hex()), mailbox(reopened, BOB));
    assertEquals(Optional.of(ack("m1")), reopened.acceptedAnswer(id("m1")));
    assertEquals(List.of(2L), commit(reopened, delivery("m4", 4, ALICE, BOB)));
  }

  @Test
  void aFailedSyncFailsTheStorageForGoodAndIsNeverRetried() throws Exception {
    FailingFiles files = FailingFiles.journals();
    MapDbStorage storage = open(data, JournalOptions.DEFAULT.withFiles(files));
    commit(storage, delivery("m1", 1, ALICE, BOB));

    files.failForce = true;
    StorageFailedException failure = refused(storage, delivery("m2", 2, ALICE, BOB));
    assertTrue(failure.getMessage().contains("cannot sync the journal"), failure.getMessage());
    assertEquals(failure, failureOf(storage));
    files.failForce = false;
    assertEquals(failure, refused(storage, delivery("m3", 3, ALICE, BOB)));
    assertEquals(0, files.callsAfterFailure.get(), "no write and no fdatasync after a failed fdatasync");
    assertEquals(List.of(id("m1").hex()), mailbox(storage, BOB), "m2 is not visible");
    storage.close();
    assertEquals(0, files.callsAfterFailure.get(), "closing does not checkpoint or sync either");

    // m2's record is whole in the journal (only its sync failed): replay may store it. It was never
    // acknowledged; stored once, it answers a resend as a duplicate.
    MapDbStorage reopened = open(data, JournalOptions.DEFAULT);
    List<String> ids = mailbox(reopened, BOB);
    assertTrue(
        ids.equals(List.of(id("m1").hex())) || ids.equals(List.of(id("m1").hex(), id("m2").hex())), ids.toString());
    assertEquals(Optional.empty(), reopened.acceptedAnswer(id("m3")));
  }

  @Test
  void aFailedCheckpointFailsTheStorageForGood() throws Exception {
    FailingFiles files = FailingFiles.storeFile();
    MapDbStorage storage = open(data, JournalOptions.DEFAULT.withFiles(files));
    commit(storage, delivery("m1", 1, ALICE, BOB));

    files.failWrites = true;
    storage.beginCheckpoint();
    StorageFailedException failure = failureOf(storage);
    assertTrue(failure.getMessage().contains("checkpoint"), failure.getMessage());
    assertEquals(failure, refused(storage, delivery("m2", 2, ALICE, BOB)));
    storage.close();

    MapDbStorage reopened = open(data, JournalOptions.DEFAULT);
    assertEquals(List.of(id("m1").hex()), mailbox(reopened, BOB), "replayed from the journal that stayed");
  }

  @Test
  void aChangeTooLargeForOneRecordIsRefusedAloneAndTheRestOfItsBatchCommitted() throws Exception {
    MapDbStorage storage = open(data, JournalOptions.DEFAULT.withMaxRecordBody(256 << 10));
    commit(storage, delivery("m0", 0, ALICE, BOB));
    CountDownLatch blocked = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicBoolean first = new AtomicBoolean(true);
    storage.beforeCommit(
        () -> {
          if (first.getAndSet(false)) {
            blocked.countDown();
            try {
              release.await();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
        });
    CompletableFuture<List<Long>> head = storage.commit(delivery("h", 1, ALICE, BOB)).toCompletableFuture();
    assertTrue(blocked.await(10, TimeUnit.SECONDS));
    // Queued while the commit thread waits: one batch.
    List<CompletableFuture<List<Long>>> small = new ArrayList<>();
    CompletableFuture<List<Long>> large = null;
    for (int i = 0; i < 7; i++) {
      small.add(storage.commit(delivery("s" + i, 2, ALICE, BOB)).toCompletableFuture());
      if (i == 3) {
        MailboxEntry huge = MailboxEntry.direct(id("big"), ALICE, 2, message("big", 600_000));
        large =
            storage
                .commit(StorageChange.builder().accept(id("big"), 2, ack("big")).append(BOB, huge).build())
                .toCompletableFuture();
      }
    }
    release.countDown();
    await(head);
    for (CompletableFuture<List<Long>> f : small) {
      await(f);
    }
    CompletableFuture<List<Long>> refused = large;
    ExecutionException e = assertThrows(ExecutionException.class, () -> await(refused));
    assertInstanceOf(RecordTooLargeException.class, e.getCause());
    assertFalse(storage.failure().toCompletableFuture().isDone(), "the storage goes on");
    assertEquals(Optional.empty(), storage.acceptedAnswer(id("big")));
    List<String> expected = new ArrayList<>(List.of(id("m0").hex(), id("h").hex()));
    for (int i = 0; i < 7; i++) {
      expected.add(id("s" + i).hex());
    }
    assertEquals(expected, mailbox(storage, BOB), "every small change, in order, and not the large one");
    storage.close();

    MapDbStorage reopened = open(data, JournalOptions.DEFAULT);
    assertEquals(expected, mailbox(reopened, BOB));
    assertEquals(Optional.empty(), reopened.acceptedAnswer(id("big")));
  }

  @Test
  void aFirstStartKilledAtAnyStepLeavesAStoreThatOpens() throws Exception {
    Path copies = Files.createDirectories(data.resolve("copies"));
    Path first = data.resolve("first");
    List<String> steps = new ArrayList<>();
    JournalOptions options =
        JournalOptions.DEFAULT.withAfterStep(
            step -> {
              // What a kill right after this step leaves: the files as they are on disk now.
              Path copy = copies.resolve(String.valueOf(steps.size()));
              steps.add(step);
              copyTree(first, copy);
            });
    MapDbStorage storage = open(first, options);
    storage.close();
    assertTrue(steps.contains("directory created"), steps.toString());
    assertTrue(steps.contains("store file created"), steps.toString());
    assertTrue(steps.contains("journal 1 created"), steps.toString());
    assertTrue(steps.contains("journal 1 appended"), steps.toString());
    for (int i = 0; i < steps.size(); i++) {
      Path copy = copies.resolve(String.valueOf(i));
      MapDbStorage reopened = open(copy, JournalOptions.DEFAULT);
      assertEquals(List.of(1L), commit(reopened, delivery("m1", 1, ALICE, BOB)), "after " + steps.get(i));
      reopened.close();
      reopened = open(copy, JournalOptions.DEFAULT);
      assertEquals(List.of(id("m1").hex()), mailbox(reopened, BOB), "after " + steps.get(i));
    }
  }

  @Test
  void filesAreReadableByTheirOwnerOnly() throws Exception {
    Assumptions.assumeTrue(Files.getFileStore(data).supportsFileAttributeView("posix"));
    MapDbStorage storage = open(data, JournalOptions.DEFAULT);
    commit(storage, delivery("m1", 1, ALICE, BOB));
    Path directory = data.resolve(MapDbStorage.DIRECTORY);
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(directory)));
    assertEquals(
        "rw-------",
        PosixFilePermissions.toString(Files.getPosixFilePermissions(directory.resolve(MapDbStorage.FILE_NAME))));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(journal())));
  }

  private static void copyTree(Path from, Path to) {
    try {
      Files.createDirectories(to);
      if (!Files.exists(from)) {
        return;
      }
      try (Stream<Path> paths = Files.walk(from)) {
        for (Path path : paths.sorted(Comparator.naturalOrder()).toList()) {
          Path target = to.resolve(from.relativize(path).toString());
          if (Files.isDirectory(path)) {
            Files.createDirectories(target);
          } else {
            Files.copy(path, target);
          }
        }
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
