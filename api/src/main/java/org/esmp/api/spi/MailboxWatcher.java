package org.esmp.api.spi;

import java.util.Collection;
import org.esmp.api.Address;

/**
 * What a storage shared by several servers (a cluster) tells the server of mailbox appends that
 * <em>other</em> servers committed, so that it pushes them to the connections following those
 * mailboxes here (since 1.3). A hint, not the data: the server reads the entries from the storage,
 * so a lost hint costs latency, never an entry. It also hands on the messages of ephemeral types
 * that other servers deliver, which are the data, since nothing stores them ({@link #live}). Given
 * to the storage once, with {@link Storage#watch}; its methods never block and may be called from
 * any thread.
 */
public interface MailboxWatcher {

  /** {@code address}'s mailbox has entries up to {@code cursor}, committed by another server. */
  void appended(Address address, long cursor);

  /**
   * The storage may have missed hints (it lost its notification channel and got it back): every
   * mailbox followed here is read again up to its last cursor.
   */
  void missed();

  /**
   * Another server delivered a message live only (of an ephemeral type, never stored) to {@code
   * recipients}: the server writes {@code frame} as it is, with its newline, to the connections
   * here that follow their mailboxes (see {@link Storage#publishLive}, whose {@code frame} this is,
   * unchanged). Best effort: nothing tells a storage it missed one. The default ignores it, for a
   * watcher written before this method.
   *
   * @param frame a whole {@code deliver} frame with {@code "cursor":null}, without its newline
   */
  default void live(Collection<Address> recipients, byte[] frame) {}
}
