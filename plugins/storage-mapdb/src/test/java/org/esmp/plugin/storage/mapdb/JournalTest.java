package org.esmp.plugin.storage.mapdb;

import static org.esmp.plugin.storage.mapdb.PageOverlay.CHUNK_SIZE;
import static org.esmp.plugin.storage.mapdb.PageOverlay.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32C;
import org.esmp.api.StorageFailedException;
import org.esmp.plugin.storage.mapdb.PageOverlay.Page;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The journal's files and records, byte for byte, and how its failures end. */
class JournalTest {

  @TempDir Path dir;

  private final StorageFailure failure = new StorageFailure();
  private final List<String> steps = new ArrayList<>();
  private final List<Journal> opened = new ArrayList<>();

  @AfterEach
  void closeAll() {
    opened.forEach(Journal::closeQuietly);
  }

  private Journal journal(JournalOptions options) throws IOException {
    Journal journal = new Journal(dir.resolve("s"), 1, failure, options.withAfterStep(steps::add));
    opened.add(journal);
    return journal;
  }

  /** Page {@code number} of random bytes, with {@code chunks} dirty. */
  private static Page page(long number, long chunks) {
    byte[] bytes = new byte[PAGE_SIZE];
    new Random(number).nextBytes(bytes);
    Page page = new Page(number, bytes);
    page.dirtyChunks = chunks;
    return page;
  }

  private static Path path(long generation) {
    return Path.of("s.journal." + generation);
  }

  private List<Path> journals() throws IOException {
    return Journal.journalsOf(dir.resolve("s")).stream().map(Path::getFileName).toList();
  }

  @Test
  void aRecordIsHeaderChunksAndCrcAndCountsOnceForced() throws IOException {
    Journal journal = journal(JournalOptions.DEFAULT);
    Page first = page(3, 1L | 1L << 2 | 1L << 63);
    Page second = page(9, 1L << 5);
    journal.append(List.of(first, second));

    ByteBuffer record = ByteBuffer.wrap(Files.readAllBytes(dir.resolve(path(1))));
    int bodyLength = 16 + 3 * CHUNK_SIZE + 16 + CHUNK_SIZE;
    assertEquals(Journal.RECORD_HEADER + bodyLength + 4, record.limit());
    assertEquals(record.limit(), journal.size());
    assertEquals(Journal.RECORD_MAGIC, record.getInt());
    assertEquals(bodyLength, record.getInt());
    assertEquals(1, record.getLong(), "sequence number");
    assertEquals(3, record.getLong());
    assertEquals(first.dirtyChunks, record.getLong());
    for (int chunk : new int[] {0, 2, 63}) {
      assertArrayEquals(chunk(first, chunk), next(record, CHUNK_SIZE), "chunk " + chunk);
    }
    assertEquals(9, record.getLong());
    assertEquals(second.dirtyChunks, record.getLong());
    assertArrayEquals(chunk(second, 5), next(record, CHUNK_SIZE));
    CRC32C crc = new CRC32C();
    crc.update(record.array(), 0, record.position());
    assertEquals((int) crc.getValue(), record.getInt());

    long firstSize = journal.size();
    journal.append(List.of(page(1, 1)));
    ByteBuffer both = ByteBuffer.wrap(Files.readAllBytes(dir.resolve(path(1))));
    assertEquals(Journal.RECORD_MAGIC, both.getInt((int) firstSize));
    assertEquals(2, both.getLong((int) firstSize + 8), "the next sequence number");
    assertEquals(both.limit(), journal.size());
    assertEquals(List.of("journal 1 created"), steps, "appends are the caller's steps");
  }

  private static byte[] chunk(Page page, int index) {
    return Arrays.copyOfRange(page.bytes, index * CHUNK_SIZE, (index + 1) * CHUNK_SIZE);
  }

  private static byte[] next(ByteBuffer buffer, int length) {
    byte[] b = new byte[length];
    buffer.get(b);
    return b;
  }

  @Test
  void aCommitTooLargeForOneRecordIsRefusedBeforeAnythingIsWritten() throws IOException {
    Journal journal = journal(JournalOptions.DEFAULT.withMaxRecordBody(1024));
    assertThrows(RecordTooLargeException.class, () -> journal.append(List.of(page(0, -1L))));
    assertEquals(0, Files.size(dir.resolve(path(1))));
    assertNull(failure.failed(), "the journal goes on");
    journal.append(List.of(page(0, 0xffL))); // 16 + 8 * 64 bytes fit
    assertEquals(Files.size(dir.resolve(path(1))), journal.size());
  }

  @Test
  void aFailedAppendIsCutBackToTheLastCompleteRecordAndFailsTheStorage() throws IOException {
    FailingFiles files = FailingFiles.journals();
    Journal journal = journal(JournalOptions.DEFAULT.withFiles(files));
    journal.append(List.of(page(0, 1)));
    long good = journal.size();
    files.failWrites = true;
    StorageFailedException e = assertThrows(StorageFailedException.class, () -> journal.append(List.of(page(1, -1L))));
    assertTrue(e.getMessage().contains("cut back to its last complete record"), e.getMessage());
    assertSame(e, failure.failed());
    assertEquals(good, Files.size(dir.resolve(path(1))));
    assertEquals(good, journal.size());
    assertEquals(1, files.callsAfterFailure.get(), "one force, of the cut back");
  }

  @Test
  void aFailedFdatasyncFailsTheStorageAndTheRecordDoesNotCount() throws IOException {
    FailingFiles files = FailingFiles.journals();
    Journal journal = journal(JournalOptions.DEFAULT.withFiles(files));
    journal.append(List.of(page(0, 1)));
    long good = journal.size();
    files.failForce = true;
    StorageFailedException e = assertThrows(StorageFailedException.class, () -> journal.append(List.of(page(1, 1))));
    assertTrue(e.getMessage().contains("cannot sync the journal"), e.getMessage());
    assertSame(e, failure.failed());
    assertEquals(good, journal.size());
  }

  @Test
  void aRollMovesLaterRecordsToANewGenerationAndTheRetiredOneIsDeletedOnRequest() throws IOException {
    Journal journal = journal(JournalOptions.DEFAULT);
    journal.append(List.of(page(0, 1)));
    long retiredSize = journal.size();
    Journal.Retired retired = journal.roll();
    assertEquals(1, retired.generation);
    assertEquals(2, journal.generation());
    assertEquals(0, journal.size());
    assertEquals(List.of(path(1), path(2)), journals());

    journal.append(List.of(page(0, 1)));
    assertEquals(1, ByteBuffer.wrap(Files.readAllBytes(dir.resolve(path(2)))).getLong(8), "sequence numbers restart");
    assertEquals(retiredSize, Files.size(dir.resolve(path(1))), "the retired one is left as it was");

    retired.delete();
    assertEquals(List.of(path(2)), journals());
    journal.delete();
    assertEquals(List.of(), journals());
    assertEquals(List.of("journal 1 created", "journal 2 created", "journal 1 deleted"), steps);
  }

  @Test
  void journalsAreListedOldestGenerationFirstByNumber() throws IOException {
    for (String name : List.of("s.journal.10", "s.journal.2", "s.journal.1", "s.journal.", "s.journal.x", "t.journal.3")) {
      Files.createFile(dir.resolve(name));
    }
    assertEquals(List.of(path(1), path(2), path(10)), journals());
    assertEquals(10, Journal.generationOf(dir.resolve("s.journal.10")));
  }

  @Test
  void aNewGenerationMustNotExist() throws IOException {
    Files.createFile(dir.resolve(path(1)));
    assertThrows(java.nio.file.FileAlreadyExistsException.class, () -> journal(JournalOptions.DEFAULT));
  }
}
