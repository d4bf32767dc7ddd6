package org.esmp.plugin.storage.mapdb;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.esmp.api.MailboxEntry;

/**
 * Messages kept once for several entries (format 3 of the store): a message appended to 100
 * mailboxes in one change is one record in {@code messages} and 100 small
 * {@link Records#reference references}, not 100 copies. Each bucket of {@code messages} (the
 * messages under one id prefix) has a reference count in {@code message_refs}; the bucket goes
 * when the last entry that refers into it is deleted (by retention, or a plugin deleting or
 * replacing a kept entry).
 *
 * <p>A message with one reference only is stored whole in its entry, as before format 3: the
 * common direct message to one recipient costs no more than it did.
 *
 * <p>{@link #add} and {@link #release} run on the commit thread, inside the open transaction;
 * {@link #read} on any thread: an entry a reader sees is committed, and so is the message it
 * refers to, which goes only with its last reference.
 */
final class KeptMessages {

  private final Store store;

  KeptMessages(Store store) {
    this.store = store;
  }

  /**
   * Commit thread: keeps {@code message} for {@code references} more entries.
   *
   * @return false when a different message is kept under the same id (a plugin appended two
   *     entries of one message with different fields): then the caller stores its entries whole
   */
  boolean add(Encoded message) {
    long prefix = ByteBuffer.wrap(message.id).getLong();
    byte[] stored = store.messages.get(prefix);
    List<Records.KeptMessage> bucket = stored == null ? new ArrayList<>(1) : new ArrayList<>(Records.keptMessages(stored));
    byte[] kept = null;
    for (Records.KeptMessage m : bucket) {
      if (Arrays.equals(m.id(), message.id)) {
        kept = m.entry();
      }
    }
    if (kept != null && !Arrays.equals(kept, message.whole)) {
      return false;
    }
    if (kept == null) {
      bucket.add(new Records.KeptMessage(message.id, message.whole));
      store.messages.put(prefix, Records.messageBucket(bucket));
    }
    Long count = store.messageRefs.get(prefix);
    store.messageRefs.put(prefix, (count == null ? 0 : count) + message.references);
    return true;
  }

  /**
   * Commit thread: {@code storedEntry} (a mailbox or kept entry's stored bytes) is being deleted or
   * replaced; if it refers to a kept message, that message has one reference less, and goes with
   * its last. Null and whole entries do nothing.
   */
  void release(byte[] storedEntry) {
    byte[] id = storedEntry == null ? null : Records.referencedId(storedEntry);
    if (id == null) {
      return;
    }
    long prefix = ByteBuffer.wrap(id).getLong();
    Long count = store.messageRefs.get(prefix);
    if (count == null || count <= 1) {
      // The bucket's last reference: its messages go (another message of the bucket would have
      // kept the count above 1).
      store.messageRefs.remove(prefix);
      store.messages.remove(prefix);
    } else {
      store.messageRefs.put(prefix, count - 1);
    }
  }

  /**
   * The whole entry {@code storedEntry} stands for ({@link Records#entry(long, byte[])} decodes it):
   * itself when whole, else the message it refers to; null when that message is gone (the entry is
   * being deleted past retention).
   */
  byte[] whole(byte[] storedEntry) {
    byte[] id = Records.referencedId(storedEntry);
    if (id == null) {
      return storedEntry;
    }
    byte[] bucket = store.messages.get(ByteBuffer.wrap(id).getLong());
    return bucket == null ? null : Records.keptEntry(bucket, id);
  }

  /**
   * One message of a change, encoded on the caller's thread before it is queued: its whole entry,
   * and when more than one of the change's appends and kept entries carry it, the reference they
   * store instead, unless {@link #add} refused it.
   */
  static final class Encoded {
    final byte[] id;
    final byte[] whole;
    byte[] reference;
    int references;

    Encoded(MailboxEntry entry, Records records) {
      this.id = Keys.idBytes(entry.id());
      this.whole = records.entry(entry);
    }

    /** Whether the message is to be kept once: more than one entry carries it. */
    boolean shared() {
      return reference != null;
    }

    /** What each entry carrying this message stores. */
    byte[] stored() {
      return reference != null ? reference : whole;
    }

    /** {@link #add} refused it: each entry stores it whole. */
    void storeWhole() {
      reference = null;
    }
  }
}
