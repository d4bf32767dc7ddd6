package org.esmp.plugin.storage.mapdb;

import java.util.HexFormat;
import org.esmp.api.MessageId;

/**
 * The numeric keys of the store. MapDB decodes every B-tree node it passes and rewrites a whole
 * leaf on every insert, so the keys written per message are single longs: an order of magnitude
 * cheaper to compare, encode and decode than the strings and tuples they replace.
 *
 * <p>A mailbox key packs an address id (the high {@value #ADDRESS_BITS} bits) and a cursor (the
 * low {@value #CURSOR_BITS}) into one long. The keys of one address are contiguous and in cursor
 * order under MapDB's signed comparison, also for ids with the top bit set: adding a cursor below
 * 2<sup>40</sup> to {@code id << 40} never carries into the address bits. Order across addresses
 * does not matter.
 */
final class Keys {

  static final int CURSOR_BITS = 40;
  static final int ADDRESS_BITS = Long.SIZE - CURSOR_BITS;
  /** The highest cursor one address can reach: about 10<sup>12</sup>. */
  static final long MAX_CURSOR = (1L << CURSOR_BITS) - 1;
  /** The highest address id: about 1.7·10<sup>7</sup> addresses that received mail. */
  static final long MAX_ADDRESS_ID = (1L << ADDRESS_BITS) - 1;

  private Keys() {}

  /** The key of entry {@code cursor} (0 to {@link #MAX_CURSOR}) of the mailbox {@code addressId}. */
  static long mailbox(long addressId, long cursor) {
    if (addressId < 1 || addressId > MAX_ADDRESS_ID) {
      throw new IllegalStateException("address id " + addressId + " out of range");
    }
    if (cursor < 0 || cursor > MAX_CURSOR) {
      throw new IllegalStateException("cursor " + cursor + " out of range");
    }
    return addressId << CURSOR_BITS | cursor;
  }

  static long addressId(long mailboxKey) {
    return mailboxKey >>> CURSOR_BITS;
  }

  static long cursor(long mailboxKey) {
    return mailboxKey & MAX_CURSOR;
  }

  /**
   * The first 8 bytes of a message id: the key of its accepted record. Ids are SHA-256 digests, so
   * prefixes are uniform, and the rare ids sharing one share its record (see
   * {@link Records#accepted}).
   */
  static long idPrefix(MessageId id) {
    return Long.parseUnsignedLong(id.hex(), 0, 16, 16);
  }

  /** The 32 bytes of a message id. */
  static byte[] idBytes(MessageId id) {
    return HexFormat.of().parseHex(id.hex());
  }
}
