package org.esmp.plugin.storage.mapdb;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.esmp.api.MailboxEntry;
import org.esmp.api.Writes;
import org.esmp.api.spi.StorageChange;

/**
 * A queued change with its values already encoded: its accepted record, the messages of its
 * mailbox appends and kept entries ({@link KeptMessages.Encoded}: each distinct message once), and
 * the future its cursors complete.
 */
final class ChangeTask implements GroupCommitter.Task {

  final StorageChange change;
  final byte[] acceptedValue;
  /** The message of each append, in order; appends of one message share one. */
  final KeptMessages.Encoded[] appended;
  /** The message of each kept entry, in order. */
  final KeptMessages.Encoded[] kept;
  /** The distinct messages carried by more than one entry: to keep once. */
  final List<KeptMessages.Encoded> shared;
  final CompletableFuture<List<Long>> future;
  /** The bytes of values this change writes: what it adds to a batch's journal record, roughly. */
  final long bytes;

  private ChangeTask(StorageChange change, byte[] acceptedValue, KeptMessages.Encoded[] appended,
      KeptMessages.Encoded[] kept, List<KeptMessages.Encoded> shared, CompletableFuture<List<Long>> future) {
    this.change = change;
    this.acceptedValue = acceptedValue;
    this.appended = appended;
    this.kept = kept;
    this.shared = shared;
    this.future = future;
    long total = acceptedValue == null ? 0 : acceptedValue.length;
    for (KeptMessages.Encoded message : appended) {
      total += message.shared() ? Records.REFERENCE_BYTES : message.whole.length;
    }
    for (KeptMessages.Encoded message : kept) {
      total += message.shared() ? Records.REFERENCE_BYTES : message.whole.length;
    }
    for (KeptMessages.Encoded message : shared) {
      total += message.whole.length; // once, however many entries carry it
    }
    for (Writes.Put put : change.writes().puts()) {
      total += put.value().length;
    }
    this.bytes = total;
  }

  /**
   * Checks {@code change}'s spaces and encodes its values, on the caller's thread. One message to
   * many recipients is one {@link MailboxEntry} appended many times (and maybe kept): it is encoded
   * once, and kept once when more than one entry carries it.
   *
   * @throws RuntimeException when a space name is refused or a value cannot be encoded
   */
  static ChangeTask prepare(StorageChange change, Records records, CompletableFuture<List<Long>> future) {
    KeyValues.check(change);
    byte[] acceptedValue =
        change.accepted().map(a -> records.accepted(a.id(), a.acceptedAt(), a.answer())).orElse(null);
    Map<MailboxEntry, KeptMessages.Encoded> encoded = new IdentityHashMap<>();
    List<Writes.Append> appends = change.writes().appends();
    KeptMessages.Encoded[] appended = new KeptMessages.Encoded[appends.size()];
    for (int i = 0; i < appended.length; i++) {
      appended[i] = carried(encoded, appends.get(i).entry(), records);
    }
    List<Writes.Keep> keeps = change.writes().keeps();
    KeptMessages.Encoded[] kept = new KeptMessages.Encoded[keeps.size()];
    for (int i = 0; i < kept.length; i++) {
      kept[i] = carried(encoded, keeps.get(i).entry(), records);
    }
    List<KeptMessages.Encoded> shared = new ArrayList<>();
    encoded.forEach((entry, message) -> {
      if (message.references > 1) {
        message.reference = Records.reference(entry);
        shared.add(message);
      }
    });
    return new ChangeTask(change, acceptedValue, appended, kept, shared, future);
  }

  /** The encoded message of {@code entry}, with one more entry carrying it. */
  private static KeptMessages.Encoded carried(
      Map<MailboxEntry, KeptMessages.Encoded> encoded, MailboxEntry entry, Records records) {
    KeptMessages.Encoded message = encoded.computeIfAbsent(entry, e -> new KeptMessages.Encoded(e, records));
    message.references++;
    return message;
  }

  /** The writes it counts for in a batch: itself, its key changes, its appends and kept entries. */
  int weight() {
    return 1 + change.bindKeys().size() + change.unbindKeys().size() + change.writes().appends().size()
        + change.writes().keeps().size();
  }
}
