package org.esmp.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.esmp.api.Address;
import org.esmp.api.MailboxEntry;
import org.esmp.api.MessageId;
import org.esmp.api.json.JsonObject;
import org.esmp.server.mailbox.EncodedEntry;
import org.junit.jupiter.api.Test;

/**
 * {@link PushLanes} on a real pool of workers: each mailbox gets its entries in commit order while
 * mailboxes are pushed to in parallel, with the one entry each commit shares among them.
 */
class PushLanesTest {

  private static final int MAILBOXES = 50;
  private static final int COMMITS = 2_000;
  private static final int LANES = 8;

  @Test
  void eachMailboxGetsItsEntriesInCommitOrder() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    Map<Address, List<Long>> pushed = new ConcurrentHashMap<>();
    Map<Long, EncodedEntry> entryOfCommit = new ConcurrentHashMap<>();
    AtomicInteger done = new AtomicInteger();
    AtomicInteger notShared = new AtomicInteger();
    PushLanes lanes = new PushLanes(LANES, pool, (address, cursor, entry) -> {
      List<Long> cursors = pushed.computeIfAbsent(address, a -> new ArrayList<>());
      synchronized (cursors) { // one lane per mailbox: never two at once, checked below all the same
        cursors.add(cursor);
      }
      if (entry != entryOfCommit.get(cursor)) {
        notShared.incrementAndGet();
      }
      done.incrementAndGet();
    });
    List<Address> mailboxes = new ArrayList<>();
    for (int m = 0; m < MAILBOXES; m++) {
      mailboxes.add(Address.parse("member" + m + "#example.com"));
    }
    // Each commit appends one entry to every mailbox, at cursor = commit number in each.
    for (long commit = 1; commit <= COMMITS; commit++) {
      MailboxEntry entry = MailboxEntry.direct(new MessageId(String.format("%064x", commit)), mailboxes.get(0), 0,
          JsonObject.empty());
      EncodedEntry encoded = new EncodedEntry(entry);
      entryOfCommit.put(commit, encoded);
      for (Address mailbox : mailboxes) { // as Commits does on the storage's thread
        lanes.push(mailbox, commit, encoded);
      }
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (done.get() < MAILBOXES * COMMITS && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    pool.shutdown(); // only now: a lane that ran its share hands itself to the pool again
    assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
    for (Address mailbox : mailboxes) {
      List<Long> cursors = pushed.get(mailbox);
      assertEquals(COMMITS, cursors.size(), "every entry of " + mailbox);
      for (int i = 0; i < COMMITS; i++) {
        assertEquals(i + 1, cursors.get(i), "commit order in " + mailbox);
      }
    }
    assertEquals(0, notShared.get(), "every mailbox gets its commit's one entry");
  }
}
