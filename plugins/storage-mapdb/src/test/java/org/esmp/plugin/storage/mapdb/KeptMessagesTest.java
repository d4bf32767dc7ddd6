package org.esmp.plugin.storage.mapdb;

import static org.esmp.api.testkit.StorageFixtures.ack;
import static org.esmp.api.testkit.StorageFixtures.address;
import static org.esmp.api.testkit.StorageFixtures.id;
import static org.esmp.api.testkit.StorageFixtures.message;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import org.esmp.api.Address;
import org.esmp.api.MailboxEntry;
import org.esmp.api.MessageId;
import org.esmp.api.spi.StorageChange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Messages kept once in a real store on disk: how many copies of a message the store holds, what
 * each mailbox and kept entry stores, and that entries read back whole through their references,
 * after retention and after reopening.
 */
class KeptMessagesTest {

  private static final Address ALICE = address("alice");
  private static final int MESSAGE_BYTES = 20_000;

  @TempDir Path dir;
  private OpenStore open;
  private BatchWriter writer;

  @BeforeEach
  void open() {
    open = new OpenStore(dir);
    writer = open.writer();
  }

  @AfterEach
  void close() {
    open.close();
  }

  private static List<Address> recipients(int count) {
    List<Address> recipients = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      recipients.add(address("r" + i));
    }
    return recipients;
  }

  private static MailboxEntry big(String name, long receivedAt) {
    return MailboxEntry.direct(id(name), ALICE, receivedAt, message(name, MESSAGE_BYTES));
  }

  private List<Long> commit(StorageChange change) {
    ChangeTask task = open.task(change);
    writer.commit(List.of(task));
    return task.future.join();
  }

  /** The stored bytes of {@code address}'s entry at {@code cursor}. */
  private byte[] stored(Address address, long cursor) {
    return open.store.mailbox.get(Keys.mailbox(open.store.addresses.get(address.toString()), cursor));
  }

  /** The entry those bytes stand for, read as the storage's readers read it. */
  private MailboxEntry read(long cursor, byte[] stored) {
    byte[] whole = new KeptMessages(open.store).whole(stored);
    return whole == null ? null : open.records.entry(cursor, whole);
  }

  /** How many times the message's bytes are in the store: kept copies plus whole entries. */
  private int copies(MessageId id) {
    byte[] idBytes = Keys.idBytes(id);
    int copies = 0;
    for (byte[] bucket : open.store.messages.values()) {
      copies += Records.keptEntry(bucket, idBytes) != null ? 1 : 0;
    }
    List<byte[]> entries = new ArrayList<>(open.store.mailbox.values());
    entries.addAll(open.store.kept.values());
    for (byte[] stored : entries) {
      if (Records.referencedId(stored) == null && open.records.entry(0, stored).id().equals(id)) {
        copies++;
      }
    }
    return copies;
  }

  private long references(MessageId id) {
    Long count = open.store.messageRefs.get(Keys.idPrefix(id));
    return count == null ? 0 : count;
  }

  @Test
  void aMessageToAHundredRecipientsIsStoredOnceAndReadBackWholeFromEachMailbox() {
    MailboxEntry entry = big("hundred", 1000);
    StorageChange.Builder change = StorageChange.builder().accept(entry.id(), 1000, ack("hundred"));
    recipients(100).forEach(r -> change.append(r, entry));

    commit(change.build());

    assertEquals(1, copies(entry.id()));
    assertEquals(100, references(entry.id()));
    for (Address recipient : recipients(100)) {
      byte[] stored = stored(recipient, 1);
      assertEquals(Records.REFERENCE_BYTES, stored.length, "a small reference in " + recipient);
      assertEquals(entry.withCursor(1), read(1, stored));
    }
  }

  @Test
  void aMessageToOneRecipientIsStoredWholeInItsEntry() {
    MailboxEntry entry = big("single", 1000);

    commit(StorageChange.builder().append(address("r0"), entry).build());

    assertEquals(1, copies(entry.id()));
    assertTrue(open.store.messages.isEmpty(), "nothing kept apart");
    assertTrue(stored(address("r0"), 1).length > MESSAGE_BYTES);
    assertEquals(entry.withCursor(1), read(1, stored(address("r0"), 1)));
  }

  @Test
  void aGroupPostIsOneCopyAThreadEntryAndASmallEntryPerMember() {
    MailboxEntry post =
        new MailboxEntry(0, id("post"), ALICE, 1000, message("post", MESSAGE_BYTES), Optional.of("g"), OptionalLong.of(3));
    StorageChange.Builder change = StorageChange.builder().keep("threads", "g/3", post);
    recipients(10).forEach(r -> change.append(r, post));

    commit(change.build());

    assertEquals(1, copies(post.id()));
    assertEquals(11, references(post.id()));
    byte[] threadEntry = open.store.kept.get(KeyValues.key("threads", "g/3"));
    assertEquals(Records.REFERENCE_BYTES, threadEntry.length);
    assertEquals(post, read(0, threadEntry));
    assertEquals(post.withCursor(1), read(1, stored(address("r3"), 1)));
  }

  @Test
  void retentionDeletesAMessageWithItsLastReferenceOnly() {
    MailboxEntry direct = big("direct", 100);
    StorageChange.Builder toThree = StorageChange.builder();
    recipients(3).forEach(r -> toThree.append(r, direct));
    commit(toThree.build());
    MailboxEntry post =
        new MailboxEntry(0, id("post"), ALICE, 100, message("post", 1000), Optional.of("g"), OptionalLong.of(1));
    StorageChange.Builder groupPost = StorageChange.builder().keep("threads", "g/1", post);
    recipients(3).forEach(r -> groupPost.append(r, post));
    commit(groupPost.build());
    MailboxEntry later = big("later", 900);
    StorageChange.Builder toTwo = StorageChange.builder();
    recipients(2).forEach(r -> toTwo.append(r, later));
    commit(toTwo.build());

    Retention.Trim trim = new Retention.Trim(500, new CompletableFuture<>());
    while (!new Retention(open.store, open.view, open.transaction, open.failure).trimChunk(trim)) {
      // chunk by chunk
    }

    assertEquals(6L, trim.future.join(), "both old messages' mailbox entries");
    assertEquals(0, copies(direct.id()), "no entry refers to it any more");
    assertEquals(0, references(direct.id()));
    assertEquals(1, copies(post.id()), "the thread entry still refers to it");
    assertEquals(1, references(post.id()));
    assertEquals(post, read(0, open.store.kept.get(KeyValues.key("threads", "g/1"))));
    assertEquals(later.withCursor(3), read(3, stored(address("r0"), 3)));
    assertEquals(2, references(later.id()));

    commit(StorageChange.builder().delete("threads", "g/1").build());
    assertEquals(0, copies(post.id()), "gone with its last reference");
    assertEquals(0, references(post.id()));
  }

  @Test
  void anEntryWithTheIdOfAKeptMessageButOtherFieldsIsStoredWhole() {
    MailboxEntry first = big("same-id", 100);
    StorageChange.Builder one = StorageChange.builder();
    recipients(2).forEach(r -> one.append(r, first));
    commit(one.build());
    MailboxEntry other = new MailboxEntry(0, first.id(), ALICE, 200, first.message(), Optional.of("g"), OptionalLong.of(9));
    StorageChange.Builder two = StorageChange.builder();
    recipients(2).forEach(r -> two.append(r, other));

    commit(two.build());

    assertEquals(first.withCursor(1), read(1, stored(address("r0"), 1)));
    assertEquals(other.withCursor(2), read(2, stored(address("r0"), 2)));
    assertEquals(2, references(first.id()), "the kept copy is still the first one's only");
  }

  @Test
  void replacingAKeptEntryReleasesItsMessageAndAPutReplacesAnEntry() {
    MailboxEntry a = big("a", 100);
    MailboxEntry b = big("b", 100);
    commit(StorageChange.builder().keep("threads", "k", a).append(address("r0"), a).build());
    assertEquals(2, references(a.id()));

    commit(StorageChange.builder().keep("threads", "k", b).append(address("r0"), b).build());
    assertEquals(1, references(a.id()), "the mailbox entry still refers to a");
    assertEquals(b, read(0, open.store.kept.get(KeyValues.key("threads", "k"))));

    commit(StorageChange.builder().put("threads", "k", new byte[] {1}).build());
    assertNull(open.store.kept.get(KeyValues.key("threads", "k")));
    assertEquals(1, references(b.id()));
  }

  @Test
  void referencesSurviveReopen() {
    MailboxEntry entry = big("reopened", 1000);
    StorageChange.Builder change = StorageChange.builder().keep("threads", "t/1", entry);
    recipients(5).forEach(r -> change.append(r, entry));
    commit(change.build());
    open.close();

    open = new OpenStore(dir);
    open.store.verify(open.records);
    assertEquals(6, references(entry.id()));
    assertEquals(entry.withCursor(1), read(1, stored(address("r4"), 1)));
    assertEquals(entry, read(0, open.store.kept.get(KeyValues.key("threads", "t/1"))));
  }

  @Test
  void aStoreOfTheFormatWithWholeCopiesIsUpgradedAndItsEntriesReadAsTheyAre() {
    MailboxEntry old = big("old", 1000);
    commit(StorageChange.builder().append(address("r0"), old).build());
    open.store.meta.put("format", Store.FORMAT_WHOLE_COPIES);
    open.store.commit();
    open.close();

    open = new OpenStore(dir);
    open.store.verify(open.records);
    assertEquals(Store.FORMAT, open.store.meta.get("format"));
    assertEquals(old.withCursor(1), read(1, stored(address("r0"), 1)));
  }
}
