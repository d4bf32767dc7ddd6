package org.esmp.plugin.storage.mapdb;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.esmp.api.StorageFailedException;
import org.esmp.plugin.storage.mapdb.CommittedView.Mailbox;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trim: deletes the mailbox entries received before a time, then the accepted records accepted
 * before it with their time-index entries (and the messages kept once whose last entry goes), in chunks of about {@link #TRIM_CHUNK} deletions, each
 * its own commit, so that batches can be committed between chunks. Last cursors are kept, so
 * cursors are never reused.
 *
 * <p>Mailboxes are trimmed in address-id order, those there were when the trim's first chunk ran,
 * each oldest entry first up to the first entry to keep: entries are stored in receiving order.
 * Accepted records are found through the time index, oldest millisecond first, and deleted a whole
 * millisecond at a time, so the last one can take a chunk past its size; the other records of
 * their buckets stay.
 *
 * <p>A chunk that fails is rolled back and ends its trim with the failure (earlier chunks stay
 * committed), logged at most once per second; a trim after the storage failed for good fails with
 * that {@link StorageFailedException}. Called by the commit thread only, between batches.
 */
final class Retention {

  private static final Logger log = LoggerFactory.getLogger(Retention.class);

  /**
   * Most mailbox entries one trim commit deletes; accepted records take what is left of it, by whole
   * milliseconds.
   */
  static final int TRIM_CHUNK = 10_000;

  private final Store store;
  private final CommittedView view;
  private final OpenTransaction transaction;
  private final StorageFailure failure;
  private final int chunk;
  private final LogLimiter errors = new LogLimiter(log);
  private final KeptMessages messages;

  Retention(Store store, CommittedView view, OpenTransaction transaction, StorageFailure failure) {
    this(store, view, transaction, failure, TRIM_CHUNK);
  }

  /** With chunks of {@code chunk} deletions instead of {@link #TRIM_CHUNK}: for tests. */
  Retention(Store store, CommittedView view, OpenTransaction transaction, StorageFailure failure, int chunk) {
    this.store = store;
    this.view = view;
    this.transaction = transaction;
    this.failure = failure;
    this.chunk = chunk;
    this.messages = new KeptMessages(store);
  }

  /**
   * Deletes up to a chunk of old mailbox entries, then old accepted records, and commits; completes
   * the trim's future once it is over.
   *
   * @return whether the trim is over (done or failed)
   */
  boolean trimChunk(Trim trim) {
    StorageFailedException failed = failure.failed();
    if (failed != null) {
      trim.future.completeExceptionally(failed);
      return true;
    }
    if (trim.mailboxes == null) {
      trim.mailboxes = view.mailboxes.values().stream().sorted(Comparator.comparingLong(Mailbox::id)).toList();
    }
    int budget = chunk;
    long deleted = 0;
    boolean acceptedDone = false;
    try {
      while (budget > 0 && trim.mailboxIndex < trim.mailboxes.size()) {
        Mailbox trimmed = trim.mailboxes.get(trim.mailboxIndex);
        long addressId = trimmed.id();
        Map<Long, byte[]> doomed = new LinkedHashMap<>();
        boolean addressDone = true;
        Map<Long, byte[]> entries =
            store.mailbox.subMap(Keys.mailbox(addressId, 0), true, Keys.mailbox(addressId, Keys.MAX_CURSOR), true);
        // Oldest first, and entries come in receiving order: stop at the first one to keep.
        for (Map.Entry<Long, byte[]> e : entries.entrySet()) {
          if (Records.receivedAt(e.getValue()) >= trim.receivedBefore) {
            break;
          }
          if (doomed.size() == budget) {
            addressDone = false;
            break;
          }
          doomed.put(e.getKey(), e.getValue());
        }
        for (Map.Entry<Long, byte[]> e : doomed.entrySet()) {
          store.mailbox.remove(e.getKey());
          messages.release(e.getValue()); // a message kept once goes with its last entry
        }
        if (!doomed.isEmpty()) {
          // Its newest entry may be among them: the last cursor must outlive it. Entries appended
          // since the trim began are newer than its time and stay, so the cursor then is enough.
          long last = trimmed.lastCursor();
          Long stored = store.lastCursors.get(addressId);
          if (stored == null || stored < last) {
            store.lastCursors.put(addressId, last);
          }
        }
        budget -= doomed.size();
        deleted += doomed.size();
        if (addressDone) {
          trim.mailboxIndex++;
        }
      }
      if (budget > 0) {
        Iterator<Map.Entry<Long, long[]>> old =
            store.acceptedByTime.headMap(trim.receivedBefore, false).entrySet().iterator();
        Map<Long, long[]> doomedTimes = new LinkedHashMap<>();
        int records = 0;
        while (records < budget && old.hasNext()) {
          Map.Entry<Long, long[]> e = old.next();
          doomedTimes.put(e.getKey(), e.getValue());
          records += e.getValue().length;
        }
        acceptedDone = !old.hasNext();
        for (Map.Entry<Long, long[]> e : doomedTimes.entrySet()) {
          for (long prefix : e.getValue()) {
            trimAccepted(prefix, e.getKey());
          }
          store.acceptedByTime.remove(e.getKey());
        }
      }
      transaction.commit();
    } catch (RuntimeException | Error e) {
      transaction.rollback();
      failed = failure.failed();
      if (failed == null) {
        errors.error("Storage trim failed, rolled back: " + e, e);
      }
      trim.future.completeExceptionally(failed != null ? failed : e);
      return true;
    }
    trim.deleted += deleted;
    if (acceptedDone) {
      trim.future.complete(trim.deleted);
      return true;
    }
    return false;
  }

  /** Deletes the records of bucket {@code prefix} accepted at {@code acceptedAt}. */
  private void trimAccepted(long prefix, long acceptedAt) {
    byte[] stored = store.accepted.get(prefix);
    if (stored == null) {
      return;
    }
    List<Records.Accepted> kept = new ArrayList<>(Records.acceptedRecords(stored));
    if (kept.removeIf(a -> a.acceptedAt() == acceptedAt)) {
      if (kept.isEmpty()) {
        store.accepted.remove(prefix);
      } else {
        store.accepted.put(prefix, Records.acceptedBucket(kept));
      }
    }
  }

  /**
   * A queued trim and how far it got; its future completes with the number of mailbox entries
   * deleted.
   */
  static final class Trim implements GroupCommitter.Task {
    final long receivedBefore;
    final CompletableFuture<Long> future;
    /** The mailboxes to trim, in id order, with their last cursors when the first chunk ran; null before. */
    List<Mailbox> mailboxes;
    /** The first of {@link #mailboxes} not trimmed to the end yet. */
    int mailboxIndex;
    long deleted;

    Trim(long receivedBefore, CompletableFuture<Long> future) {
      this.receivedBefore = receivedBefore;
      this.future = future;
    }
  }
}
