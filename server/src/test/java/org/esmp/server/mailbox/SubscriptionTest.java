package org.esmp.server.mailbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.net.InetAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import org.esmp.api.Address;
import org.esmp.api.Ed25519Key;
import org.esmp.api.MailboxEntry;
import org.esmp.api.MessageId;
import org.esmp.api.spi.Storage;
import org.esmp.api.spi.StorageChange;
import org.esmp.api.Stored;
import org.esmp.api.json.JsonObject;
import org.esmp.server.limits.MemoryBudget;
import org.esmp.server.session.ConnectionSession;
import org.esmp.server.session.OutputMeter;
import org.junit.jupiter.api.Test;

/**
 * {@link Subscription} on a real Netty channel (embedded) and an in-memory mailbox: cursor order
 * with no gap and no duplicate, whatever order entries are offered in, and offers that never come
 * cost a read, not a stall.
 */
class SubscriptionTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Address ALICE = Address.parse("alice#example.com");
  /** Reads and next pages run at once, on the test's thread. */
  private static final Executor NOW = Runnable::run;

  private final EmbeddedChannel channel = new EmbeddedChannel();
  private final ConnectionSession session = new ConnectionSession(channel, InetAddress.getLoopbackAddress(), new SecureRandom(),
      new OutputMeter(channel, MemoryBudget.output(16 << 20, 64 << 20), Duration.ofSeconds(5), () -> {}));
  private final Mailbox mailbox = new Mailbox();
  private final Subscription subscription = new Subscription(ALICE, session, mailbox, NOW);

  @Test
  void sendsTheBacklogInPagesThenLiveEntries() throws Exception {
    mailbox.append(250);
    CompletableFuture<Long> synced = subscription.start(0, 250);
    assertEquals(250L, synced.getNow(null));
    assertEquals(3, mailbox.reads.get(), "three pages of at most " + Subscription.PAGE);
    offer(mailbox.append(1).get(0));
    assertEquals(range(1, 252), sentCursors());
    assertEquals(3, mailbox.reads.get(), "the next entry live goes out without a read");
  }

  @Test
  void anEntryOfferedEarlyIsSentAfterItsPredecessorFromTheStorage() throws Exception {
    mailbox.append(5);
    subscription.start(5, 5);
    List<MailboxEntry> committed = mailbox.append(2); // 6 and 7, committed on different threads
    offer(committed.get(1));
    offer(committed.get(0)); // late: already sent
    assertEquals(List.of(6L, 7L), sentCursors());
  }

  @Test
  void anOfferThatNeverComesDoesNotHoldUpTheOnesAfterIt() throws Exception {
    subscription.start(0, 0);
    List<MailboxEntry> committed = mailbox.append(3);
    offer(committed.get(2)); // 1 and 2 are never offered
    assertEquals(List.of(1L, 2L, 3L), sentCursors());
    offer(mailbox.append(1).get(0));
    assertEquals(List.of(4L), sentCursors());
  }

  @Test
  void aHintOfEntriesCommittedElsewhereIsReadFromTheStorageInOrder() throws Exception {
    subscription.start(0, 0);
    mailbox.append(3); // another server of the cluster committed them: no offer here
    subscription.hint(3);
    assertEquals(List.of(1L, 2L, 3L), sentCursors());
    subscription.hint(2); // a stale hint costs nothing
    assertEquals(List.of(), sentCursors());
    int reads = mailbox.reads.get();
    subscription.hint(3);
    assertEquals(reads, mailbox.reads.get(), "a hint of what was sent reads nothing");
    offer(mailbox.append(1).get(0)); // a local commit after them goes out as before
    assertEquals(List.of(4L), sentCursors());
  }

  @Test
  void entriesGoneFromTheStorageAreSkipped() throws Exception {
    mailbox.append(6);
    mailbox.entries.remove(2L); // past retention
    mailbox.entries.remove(3L);
    mailbox.entries.remove(6L);
    assertEquals(6L, subscription.start(0, 6).getNow(null));
    assertEquals(List.of(1L, 4L, 5L), sentCursors());
    offer(mailbox.append(1).get(0));
    assertEquals(List.of(7L), sentCursors());
  }

  @Test
  void offersBeforeTheStartAreSentOnlyAfterTheSyncCursor() throws Exception {
    mailbox.append(3);
    List<MailboxEntry> early = mailbox.append(2); // committed between following and reading last
    offer(early.get(0));
    offer(early.get(1));
    assertEquals(List.of(), sentCursors());
    assertEquals(3L, subscription.start(2, 3).getNow(null));
    assertEquals(List.of(3L, 4L, 5L), sentCursors());
  }

  @Test
  void sendsNothingOnceStopped() throws Exception {
    subscription.start(0, 0);
    subscription.stop();
    offer(mailbox.append(1).get(0));
    assertEquals(List.of(), sentCursors());
  }

  @Test
  void aFailedReadFailsTheSyncAndClosesTheConnection() {
    mailbox.append(3);
    mailbox.failReads = true;
    CompletableFuture<Long> synced = subscription.start(0, 3);
    assertTrue(synced.isCompletedExceptionally());
    channel.runPendingTasks();
    assertTrue(!channel.isActive(), "closed: its client syncs again");
  }

  /** Offers {@code entry} as {@link org.esmp.server.store.Commits} does once it is committed. */
  private void offer(MailboxEntry entry) {
    subscription.offer(entry.cursor(), new EncodedEntry(entry));
  }

  private List<Long> sentCursors() throws Exception {
    channel.runPendingTasks();
    List<Long> cursors = new ArrayList<>();
    for (ByteBuf out; (out = channel.readOutbound()) != null; ) {
      String line = out.toString(StandardCharsets.UTF_8).strip();
      out.release();
      assertEquals("deliver", JSON.readTree(line).path("type").asText(), line);
      cursors.add(JSON.readTree(line).path("cursor").asLong());
    }
    return cursors;
  }

  private static List<Long> range(long from, long to) {
    List<Long> cursors = new ArrayList<>();
    for (long c = from; c < to; c++) {
      cursors.add(c);
    }
    return cursors;
  }

  /** One address's mailbox in memory: the only part of the storage a subscription reads. */
  private static final class Mailbox implements Storage {
    final TreeMap<Long, MailboxEntry> entries = new TreeMap<>();
    final AtomicInteger reads = new AtomicInteger();
    long last;
    volatile boolean failReads;

    /** Commits {@code n} entries; returns them with their cursors. */
    List<MailboxEntry> append(int n) {
      List<MailboxEntry> appended = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        last++;
        String hex = String.format("%064x", last);
        MailboxEntry entry = MailboxEntry.direct(new MessageId(hex), ALICE, 0,
            JsonObject.builder().put("type", "text").build()).withCursor(last);
        entries.put(last, entry);
        appended.add(entry);
      }
      return appended;
    }

    @Override
    public List<MailboxEntry> readMailbox(Address address, long afterCursor, int limit) {
      reads.incrementAndGet();
      if (failReads) {
        throw new IllegalStateException("disk gone");
      }
      List<MailboxEntry> page = new ArrayList<>();
      for (MailboxEntry entry : entries.tailMap(afterCursor, false).values()) {
        if (page.size() == limit) {
          break;
        }
        page.add(entry);
      }
      return page;
    }

    @Override
    public long lastCursor(Address address) {
      return last;
    }

    @Override
    public Optional<Address> addressOf(Ed25519Key key) {
      throw new UnsupportedOperationException();
    }

    @Override
    public List<Ed25519Key> keysOf(Address address) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Optional<JsonObject> acceptedAnswer(MessageId id) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Optional<byte[]> get(String space, String key) {
      throw new UnsupportedOperationException();
    }

    @Override
    public List<Stored> scan(String space, String fromKey, String toKey, int limit) {
      throw new UnsupportedOperationException();
    }

    @Override
    public CompletionStage<List<Long>> commit(StorageChange change) {
      throw new UnsupportedOperationException();
    }

    @Override
    public CompletionStage<Long> trim(long receivedBefore) {
      throw new UnsupportedOperationException();
    }
  }
}
