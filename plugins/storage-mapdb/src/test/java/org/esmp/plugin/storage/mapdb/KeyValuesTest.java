package org.esmp.plugin.storage.mapdb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import org.esmp.api.Stored;
import org.esmp.api.spi.Storage;
import org.esmp.api.spi.StorageChange;
import org.junit.jupiter.api.Test;

/** Committed-only reads of plugin values, on a plain sorted map standing in for the B-tree. */
class KeyValuesTest {

  private final ConcurrentSkipListMap<String, byte[]> map = new ConcurrentSkipListMap<>();
  private final AtomicLong rollbacks = new AtomicLong();
  private final KeyValues values = new KeyValues(() -> map, rollbacks);

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static List<String> keys(List<Stored> stored) {
    return stored.stream().map(Stored::key).toList();
  }

  private void commit(StorageChange change) {
    apply(change);
    values.clearPending();
  }

  /** Writes a change's deletes, then its puts, as the commit thread does. */
  private void apply(StorageChange change) {
    change.writes().deletes().forEach(d -> values.remove(KeyValues.key(d.space(), d.key())));
    change.writes().puts().forEach(p -> values.put(KeyValues.key(p.space(), p.key()), p.value()));
  }

  @Test
  void scansOneSpaceInKeyOrder() {
    commit(StorageChange.builder().put("a", "k2", bytes("2")).put("a", "k1", bytes("1")).put("a", "k3", bytes("3"))
        .put("b", "k1", bytes("other space")).put("a-", "k1", bytes("similar name")).build());
    assertEquals(List.of("k1", "k2", "k3"), keys(values.scan("a", "", "\uffff", 10)));
    assertEquals(List.of("k1", "k2"), keys(values.scan("a", "", "\uffff", 2)));
    assertEquals(List.of("k2"), keys(values.scan("a", "k2", "k3", 10)));
    assertArrayEquals(bytes("other space"), values.get("b", "k1").orElseThrow());
    assertTrue(values.get("a", "missing").isEmpty());
  }

  @Test
  void readersSeeTheCommittedValueWhileABatchIsOpen() {
    commit(StorageChange.builder().put("s", "old", bytes("v1")).put("s", "gone", bytes("g")).build());
    apply(StorageChange.builder().put("s", "old", bytes("v2")).put("s", "new", bytes("n"))
        .delete("s", "gone").build());
    // The open transaction wrote all three, yet nothing of it shows.
    assertArrayEquals(bytes("v1"), values.get("s", "old").orElseThrow());
    assertTrue(values.get("s", "new").isEmpty());
    assertArrayEquals(bytes("g"), values.get("s", "gone").orElseThrow());
    assertEquals(List.of("gone", "old"), keys(values.scan("s", "", "\uffff", 10)));
    values.clearPending();
    assertArrayEquals(bytes("v2"), values.get("s", "old").orElseThrow());
    assertEquals(List.of("new", "old"), keys(values.scan("s", "", "\uffff", 10)));
  }

  @Test
  void theFirstWriteOfABatchRemembersTheCommittedValue() {
    commit(StorageChange.builder().put("s", "k", bytes("committed")).build());
    apply(StorageChange.builder().put("s", "k", bytes("first")).build());
    apply(StorageChange.builder().put("s", "k", bytes("second")).build());
    assertArrayEquals(bytes("committed"), values.get("s", "k").orElseThrow());
  }

  @Test
  void refusesSpaceNamesWithoutARange() {
    assertThrows(IllegalArgumentException.class,
        () -> KeyValues.check(StorageChange.builder().put("", "k", bytes("x")).build()));
    assertThrows(IllegalArgumentException.class,
        () -> KeyValues.check(StorageChange.builder().put("a\u0000b", "k", bytes("x")).build()));
  }
}
