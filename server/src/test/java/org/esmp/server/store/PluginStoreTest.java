package org.esmp.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.esmp.api.Address;
import org.esmp.api.MailboxEntry;
import org.esmp.api.MessageId;
import org.esmp.api.Writes;
import org.esmp.api.json.JsonObject;
import org.esmp.api.spi.Storage;
import org.esmp.server.metrics.ServerMetrics;
import org.junit.jupiter.api.Test;

/** One plugin's store: its own spaces, and kept entries only on a storage that keeps them. */
class PluginStoreTest {

  private static final MailboxEntry ENTRY = MailboxEntry.direct(new MessageId("ab".repeat(32)),
      Address.parse("alice#example.com"), 1, JsonObject.empty());

  private static PluginStore store(Storage storage) {
    return new PluginStore("threads", () -> storage,
        new Commits(() -> storage, (address, cursor, entry) -> {}, Clock.systemUTC(), Runnable::run, ServerMetrics.off()));
  }

  /** A storage written for API 1.0: it knows nothing of kept entries (a mock answers false). */
  private static Storage storageOf10() {
    return mock(Storage.class);
  }

  @Test
  void keptEntriesAreRefusedOnAStorageThatWouldDropThemAndNothingIsCommitted() {
    Storage storage = storageOf10();
    Writes writes = Writes.builder().keep("threads", "k", ENTRY).build();

    ExecutionException e = assertThrows(ExecutionException.class,
        () -> store(storage).commit(writes).toCompletableFuture().get(10, TimeUnit.SECONDS));

    assertInstanceOf(UnsupportedOperationException.class, e.getCause());
    assertTrue(e.getCause().getMessage().contains("does not keep entries"), e.getCause().getMessage());
    verify(storage, never()).commit(any());
    assertThrows(UnsupportedOperationException.class, () -> store(storage).entry("threads", "k"));
  }

  @Test
  void keptEntriesAreReadFromAStorageThatKeepsThemInThePluginsOwnSpacesOnly() {
    Storage storage = storageOf10();
    when(storage.keepsEntries()).thenReturn(true);
    when(storage.entry("threads.thread", "k")).thenReturn(Optional.of(ENTRY));
    when(storage.entries("threads", "a", "z", 5)).thenReturn(List.of(ENTRY));

    assertEquals(Optional.of(ENTRY), store(storage).entry("threads.thread", "k"));
    assertEquals(List.of(ENTRY), store(storage).entries("threads", "a", "z", 5));
    assertThrows(IllegalArgumentException.class, () -> store(storage).entry("other", "k"));
    ExecutionException e = assertThrows(ExecutionException.class, () -> store(storage)
        .commit(Writes.builder().keep("other", "k", ENTRY).build()).toCompletableFuture().get(10, TimeUnit.SECONDS));
    assertInstanceOf(IllegalArgumentException.class, e.getCause());
  }
}
