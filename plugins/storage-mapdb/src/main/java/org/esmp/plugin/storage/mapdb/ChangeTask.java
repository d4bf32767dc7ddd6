package org.esmp.plugin.storage.mapdb;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.esmp.api.MailboxEntry;
import org.esmp.api.Writes;
import org.esmp.api.spi.StorageChange;

/**
 * A queued change with its values already encoded: its accepted record and each of its mailbox
 * entries in their stored form ({@link Records}), and the future its cursors complete.
 */
final class ChangeTask implements GroupCommitter.Task {

  final StorageChange change;
  final byte[] acceptedValue;
  final byte[][] entryBytes;
  final CompletableFuture<List<Long>> future;
  /** The bytes of values this change writes: what it adds to a batch's journal record, roughly. */
  final long bytes;

  private ChangeTask(
      StorageChange change, byte[] acceptedValue, byte[][] entryBytes, CompletableFuture<List<Long>> future) {
    this.change = change;
    this.acceptedValue = acceptedValue;
    this.entryBytes = entryBytes;
    this.future = future;
    long total = acceptedValue == null ? 0 : acceptedValue.length;
    for (byte[] entry : entryBytes) {
      total += entry.length; // each mailbox keeps its own copy
    }
    for (Writes.Put put : change.writes().puts()) {
      total += put.value().length;
    }
    this.bytes = total;
  }

  /**
   * Checks {@code change}'s spaces and encodes its values, on the caller's thread.
   *
   * @throws RuntimeException when a space name is refused or a value cannot be encoded
   */
  static ChangeTask prepare(StorageChange change, Records records, CompletableFuture<List<Long>> future) {
    KeyValues.check(change);
    byte[] acceptedValue =
        change.accepted().map(a -> records.accepted(a.id(), a.acceptedAt(), a.answer())).orElse(null);
    byte[][] entryBytes = new byte[change.writes().appends().size()][];
    // One message to many recipients is usually one MailboxEntry: encode it once.
    Map<MailboxEntry, byte[]> encoded = new IdentityHashMap<>();
    for (int i = 0; i < entryBytes.length; i++) {
      entryBytes[i] = encoded.computeIfAbsent(change.writes().appends().get(i).entry(), records::entry);
    }
    return new ChangeTask(change, acceptedValue, entryBytes, future);
  }

  /** The writes it counts for in a batch: itself, its key changes and its appends. */
  int weight() {
    return 1 + change.bindKeys().size() + change.unbindKeys().size() + change.writes().appends().size();
  }
}
