package org.esmp.api.spi;

import org.esmp.api.Address;

/**
 * What a storage shared by several servers (a cluster) tells the server of mailbox appends that
 * <em>other</em> servers committed, so that it pushes them to the connections following those
 * mailboxes here (since 1.3). A hint, not the data: the server reads the entries from the storage,
 * so a lost hint costs latency, never an entry. Given to the storage once, with {@link
 * Storage#watch}; its methods never block and may be called from any thread.
 */
public interface MailboxWatcher {

  /** {@code address}'s mailbox has entries up to {@code cursor}, committed by another server. */
  void appended(Address address, long cursor);

  /**
   * The storage may have missed hints (it lost its notification channel and got it back): every
   * mailbox followed here is read again up to its last cursor.
   */
  void missed();
}
