package org.esmp.plugin.storage.mapdb;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.esmp.api.StorageFailedException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Commits and rollbacks of a real store, as batches and trim chunks end them. */
class OpenTransactionTest {

  private static final String KEY = KeyValues.key("s", "k");

  @TempDir Path dir;

  @Test
  void aCommitRunsTheHookFirstAndIsCountedOnceDurable() {
    try (OpenStore open = new OpenStore(dir)) {
      List<String> steps = new ArrayList<>();
      open.transaction.beforeCommit = () -> steps.add("hook, " + open.transaction.commits() + " commits");
      open.store.values.put(KEY, "v".getBytes(UTF_8));
      open.transaction.commit();
      assertEquals(List.of("hook, 0 commits"), steps);
      assertEquals(1, open.transaction.commits());
    }
    try (OpenStore reopened = new OpenStore(dir)) {
      assertArrayEquals("v".getBytes(UTF_8), reopened.store.values.get(KEY));
    }
  }

  @Test
  void aRollbackUndoesTheWritesAndIsCountedForReaders() {
    try (OpenStore open = new OpenStore(dir)) {
      open.transaction.beforeCommit = () -> {
        throw new IllegalStateException("disk on fire");
      };
      open.store.values.put(KEY, "v".getBytes(UTF_8));
      assertThrows(IllegalStateException.class, open.transaction::commit);
      assertEquals(0, open.transaction.commits());

      open.transaction.rollback();
      assertEquals(1, open.view.rollbacks.get());
      assertNull(open.store.values.get(KEY));
      assertNull(open.failure.failed(), "the storage goes on");
      open.transaction.beforeCommit = () -> {};
      open.store.values.put(KEY, "w".getBytes(UTF_8));
      open.transaction.commit();
      assertArrayEquals("w".getBytes(UTF_8), open.store.values.get(KEY));
    }
  }

  @Test
  void aRollbackThatFailsFailsTheStorageForGoodAndIsStillCounted() {
    OpenStore open = new OpenStore(dir);
    // A closed store's volume is unmapped: a rollback over it fails.
    open.close();
    open.transaction.rollback();
    StorageFailedException failed = open.failure.failed();
    assertNotNull(failed);
    assertTrue(failed.getMessage().contains("a rollback failed"), failed.getMessage());
    assertEquals(1, open.view.rollbacks.get());
  }
}
