package org.esmp.plugin.storage.mapdb;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.esmp.api.testkit.StorageFixtures.ack;
import static org.esmp.api.testkit.StorageFixtures.address;
import static org.esmp.api.testkit.StorageFixtures.entry;
import static org.esmp.api.testkit.StorageFixtures.id;
import static org.esmp.api.testkit.StorageFixtures.key;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.esmp.api.Address;
import org.esmp.api.ConflictException;
import org.esmp.api.DuplicateException;
import org.esmp.api.MessageId;
import org.esmp.api.spi.StorageChange;
import org.esmp.plugin.storage.mapdb.CommittedView.Mailbox;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One batch's changes applied into a real store, and committed by the test as the writer would. */
class ChangeApplierTest {

  private static final Address ALICE = address("alice");
  private static final Address BOB = address("bob");
  private static final Address CAROL = address("carol");
  private static final Address DAVE = address("dave");
  /** Three ids with the same first 8 bytes: the key of their accepted records. */
  private static final MessageId FIRST = new MessageId("0123456789abcdef" + "1".repeat(48));
  private static final MessageId SECOND = new MessageId("0123456789abcdef" + "2".repeat(48));
  private static final MessageId THIRD = new MessageId("0123456789abcdef" + "3".repeat(48));

  @TempDir Path dir;
  private OpenStore open;
  private long nextAddressId = 1;

  @BeforeEach
  void open() {
    open = new OpenStore(dir);
  }

  @AfterEach
  void close() {
    open.close();
  }

  private ChangeApplier batch() {
    return new ChangeApplier(open.store, open.view, open.records, nextAddressId);
  }

  /** Applies {@code change}, which meets its conditions, as BatchWriter would. */
  private List<Long> apply(ChangeApplier changes, StorageChange change) {
    ChangeTask task = open.task(change);
    assertNull(changes.refusal(task));
    return changes.apply(task);
  }

  private RuntimeException refusal(ChangeApplier changes, StorageChange change) {
    return changes.refusal(open.task(change));
  }

  /** What BatchWriter does around a successful commit. */
  private void commit(ChangeApplier changes) {
    changes.writeIndexes();
    open.store.commit();
    nextAddressId = changes.nextAddressId();
    changes.publish();
    open.view.pendingIds.clear();
    open.view.values.clearPending();
  }

  private Map<Long, List<Long>> timeIndex() {
    return open.store.acceptedByTime.entrySet().stream()
        .collect(Collectors.toMap(Map.Entry::getKey, e -> Arrays.stream(e.getValue()).boxed().toList(),
            (a, b) -> a, TreeMap::new));
  }

  private static long prefix(MessageId id) {
    return Keys.idPrefix(id);
  }

  private List<Records.Accepted> bucket(MessageId id) {
    return Records.acceptedRecords(open.store.accepted.get(prefix(id)));
  }

  @Test
  void appendsTakeConsecutiveCursorsAndNewMailboxesTheNextAddressIds() {
    ChangeApplier changes = batch();
    assertEquals(List.of(1L, 1L), apply(changes, StorageChange.builder()
        .append(BOB, entry("m1", ALICE, 1)).append(CAROL, entry("m1", ALICE, 1)).build()));
    assertEquals(List.of(2L, 3L), apply(changes, StorageChange.builder()
        .append(BOB, entry("m2", ALICE, 2)).append(BOB, entry("m3", ALICE, 2)).build()));
    // Nothing of the batch in the committed view before the end of the batch.
    assertEquals(0, open.view.lastCursor(BOB));

    commit(changes);
    assertEquals(1L, open.store.addresses.get(BOB.toString()));
    assertEquals(2L, open.store.addresses.get(CAROL.toString()));
    assertTrue(open.store.lastCursors.isEmpty(), "a last cursor is its newest entry's key: nothing more written");
    assertEquals(new Mailbox(1, 3), open.view.mailbox(BOB));
    assertEquals(new Mailbox(1, 3), CommittedView.load(open.store, open.store.verify(open.records)).mailbox(BOB),
        "as a reopened store reads it");
    assertEquals(3, nextAddressId);

    ChangeApplier next = batch();
    assertEquals(List.of(1L, 4L), apply(next, StorageChange.builder()
        .append(DAVE, entry("m4", ALICE, 3)).append(BOB, entry("m4", ALICE, 3)).build()));
    commit(next);
    assertEquals(3L, open.store.addresses.get(DAVE.toString()));
    assertEquals(4, open.view.lastCursor(BOB));
  }

  @Test
  void nothingReachesTheCommittedViewBeforeItIsPublished() {
    ChangeApplier changes = batch();
    apply(changes, StorageChange.builder().bindKey(CAROL, key("c1")).accept(id("m"), 1, ack("m"))
        .append(BOB, entry("m", ALICE, 1)).put("s", "k", "v".getBytes(UTF_8)).build());
    // Written into the open transaction...
    assertTrue(open.store.identities.containsKey(CAROL.toString()));
    assertTrue(open.store.accepted.containsKey(prefix(id("m"))));
    // ...yet readers see none of it: the id is pending, the value's committed absence remembered.
    assertEquals(Optional.empty(), open.view.addressOf(key("c1")));
    assertTrue(open.view.pendingIds.contains(id("m").hex()));
    assertEquals(Optional.empty(), open.view.values.get("s", "k"));
    assertNull(open.view.mailbox(BOB));

    commit(changes);
    assertEquals(Optional.of(CAROL), open.view.addressOf(key("c1")));
    assertEquals(1, open.view.lastCursor(BOB));
    assertArrayEquals("v".getBytes(UTF_8), open.view.values.get("s", "k").orElseThrow());
  }

  @Test
  void conditionsSeeTheChangesAppliedBeforeThemInTheBatch() {
    ChangeApplier changes = batch();
    apply(changes, StorageChange.builder().expectAbsent("s", "k").put("s", "k", "1".getBytes(UTF_8)).build());
    assertInstanceOf(ConflictException.class,
        refusal(changes, StorageChange.builder().expectAbsent("s", "k").put("s", "k", "2".getBytes(UTF_8)).build()));
    assertNull(refusal(changes, StorageChange.builder().expect("s", "k", "1".getBytes(UTF_8)).build()));

    apply(changes, StorageChange.builder().bindKey(ALICE, key("a1")).build());
    assertInstanceOf(ConflictException.class,
        refusal(changes, StorageChange.builder().expectKeys(ALICE, List.of()).build()));
    assertNull(refusal(changes, StorageChange.builder().expectKeys(ALICE, List.of(key("a1"))).build()));
    assertInstanceOf(ConflictException.class,
        refusal(changes, StorageChange.builder().bindKey(BOB, key("a1")).build()));
    // Moving the key in one change is allowed.
    assertNull(refusal(changes, StorageChange.builder().unbindKey(ALICE, key("a1")).bindKey(BOB, key("a1")).build()));

    apply(changes, StorageChange.builder().accept(id("m"), 1, ack("m")).build());
    DuplicateException duplicate = assertInstanceOf(DuplicateException.class,
        refusal(changes, StorageChange.builder().accept(id("m"), 2, ack("again")).build()));
    assertEquals(ack("m"), duplicate.answer());
  }

  @Test
  void aKeyUnboundEarlierInTheBatchCanBeBoundElsewhere() {
    ChangeApplier first = batch();
    apply(first, StorageChange.builder().bindKey(ALICE, key("a1")).build());
    commit(first);

    ChangeApplier changes = batch();
    assertInstanceOf(ConflictException.class,
        refusal(changes, StorageChange.builder().bindKey(BOB, key("a1")).build()));
    apply(changes, StorageChange.builder().unbindKey(ALICE, key("a1")).build());
    apply(changes, StorageChange.builder().bindKey(BOB, key("a1")).build());
    commit(changes);
    assertEquals(Optional.of(BOB), open.view.addressOf(key("a1")));
    assertEquals(List.of(), open.view.keysOf(ALICE));
    assertFalse(open.store.identities.containsKey(ALICE.toString()), "an address without keys is not stored");
  }

  @Test
  void idsSharingAPrefixShareABucketAndEachMillisecondOneTimeIndexEntry() {
    ChangeApplier changes = batch();
    apply(changes, StorageChange.builder().accept(FIRST, 100, ack("first")).build());
    apply(changes, StorageChange.builder().accept(SECOND, 100, ack("second")).build());
    apply(changes, StorageChange.builder().accept(id("other"), 100, ack("other")).build());
    commit(changes);
    assertEquals(2, bucket(FIRST).size());
    assertEquals(Map.of(100L, List.of(prefix(FIRST), prefix(id("other")))), timeIndex());

    ChangeApplier next = batch();
    apply(next, StorageChange.builder().accept(THIRD, 100, ack("third")).build());
    commit(next);
    assertEquals(3, bucket(FIRST).size());
    assertEquals(Map.of(100L, List.of(prefix(FIRST), prefix(id("other")))), timeIndex(),
        "merged with the stored entry");
  }

  /**
   * A record of an id already in its bucket is replaced, and its time-index entry with it.
   * BatchWriter refuses such a change first (a duplicate), so this is the applier's own guarantee.
   */
  @Test
  void anIdAppliedAgainReplacesItsRecordAndItsTimeIndexEntry() {
    ChangeApplier changes = batch();
    changes.apply(open.task(StorageChange.builder().accept(FIRST, 100, ack("1")).build()));
    changes.apply(open.task(StorageChange.builder().accept(SECOND, 100, ack("2")).build()));
    changes.apply(open.task(StorageChange.builder().accept(FIRST, 200, ack("1 again")).build()));
    changes.apply(open.task(StorageChange.builder().accept(THIRD, 300, ack("3")).build()));
    changes.apply(open.task(StorageChange.builder().accept(THIRD, 400, ack("3 again")).build()));
    commit(changes);
    // 100 keeps SECOND; 300 lost its only id within the batch and is not written.
    assertEquals(Map.of(100L, List.of(prefix(FIRST)), 200L, List.of(prefix(FIRST)), 400L, List.of(prefix(FIRST))),
        timeIndex());
    assertEquals(List.of(200L, 100L, 400L), bucket(FIRST).stream().map(Records.Accepted::acceptedAt).toList());

    ChangeApplier next = batch();
    next.apply(open.task(StorageChange.builder().accept(THIRD, 500, ack("3 once more")).build()));
    commit(next);
    assertEquals(Map.of(100L, List.of(prefix(FIRST)), 200L, List.of(prefix(FIRST)), 500L, List.of(prefix(FIRST))),
        timeIndex(), "the stored entry of 400 is removed");
    assertEquals(Optional.of(ack("3 once more")),
        open.records.acceptedAnswer(open.store.accepted.get(prefix(THIRD)), Keys.idBytes(THIRD)));
  }
}
