package org.esmp.server.mailbox;

import io.netty.buffer.ByteBuf;
import org.esmp.api.MailboxEntry;

/**
 * A message on its way to the connections following the mailboxes it went to: the entry, and the
 * part of its {@code deliver} frame that every mailbox shares (all but the cursor), encoded at most
 * once, by the first connection it is written to, and then shared by all of them. One commit that
 * appends one entry to a hundred mailboxes makes one of these: one encoding, not a hundred.
 *
 * <p>Encoding is lazy so that it never runs where this is made: on the storage's commit thread,
 * which only commits. Thread-safe: connections on any worker may ask for frames at once.
 */
public final class EncodedEntry {

  private final MailboxEntry entry;
  /** The tail ({@link Deliveries#tail}); null until the first frame. */
  private volatile byte[] tail;

  /** @param entry the entry as appended; its cursor, different in each mailbox, is not used */
  public EncodedEntry(MailboxEntry entry) {
    this.entry = entry;
  }

  /** The frame for this entry at {@code cursor} in one mailbox (0: not stored), newline included. */
  ByteBuf frame(long cursor) {
    return Deliveries.frame(cursor, tail());
  }

  /**
   * The whole frame of this entry not stored ({@code "cursor":null}), without its newline: what a
   * storage shared by a cluster carries to the other servers ({@link
   * org.esmp.api.spi.Storage#publishLive}). A new array on each call.
   */
  byte[] liveFrame() {
    return Deliveries.liveFrame(tail());
  }

  private byte[] tail() {
    byte[] encoded = tail;
    if (encoded == null) {
      synchronized (this) {
        encoded = tail;
        if (encoded == null) {
          encoded = Deliveries.tail(entry);
          tail = encoded;
        }
      }
    }
    return encoded;
  }
}
