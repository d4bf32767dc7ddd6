package org.esmp.plugin.storage.mapdb;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import org.esmp.api.Address;
import org.esmp.api.Ed25519Key;

/**
 * What readers may trust: the committed state, in memory. MapDB shows the writes of the open
 * transaction to every thread, so readers never take the maps' word alone:
 *
 * <ul>
 *   <li>identities and each mailbox's id and last cursor are held here entirely, and changed only
 *       after {@code db.commit()} returned;
 *   <li>a mailbox read is cut at the committed last cursor: entries of a batch being committed
 *       have higher cursors;
 *   <li>an accepted id goes into {@link #pendingIds} before it is put into the map and leaves it
 *       after the commit or rollback, and {@link #rollbacks} is counted up after a rollback and
 *       before its ids leave: a reader that finds the id in the map, then not pending, with the
 *       rollback count unchanged across both reads, has found a committed record.
 * </ul>
 *
 * <p>Thread-safe: written by the commit thread only, read by any.
 */
final class CommittedView {

  final Map<Ed25519Key, Address> addressByKey = new ConcurrentHashMap<>();
  final Map<Address, List<Ed25519Key>> keysByAddress = new ConcurrentHashMap<>();
  /** The addresses of {@link #keysByAddress} by their text, in its order: for listing them. */
  final NavigableMap<String, Address> addressesByName = new ConcurrentSkipListMap<>();
  final Map<Address, Mailbox> mailboxes = new ConcurrentHashMap<>();
  final Set<String> pendingIds = ConcurrentHashMap.newKeySet();
  final AtomicLong rollbacks = new AtomicLong();
  /** The plugins' values, with their own committed-only overlay. */
  KeyValues values;
  /** The plugins' kept entries, stored as in the mailbox, with the same overlay. */
  KeyValues kept;

  /**
   * Loads the committed state of a freshly opened store.
   *
   * @param newestEntries the cursor of each mailbox's newest entry, by address id ({@link Store#verify})
   */
  static CommittedView load(Store store, Map<Long, Long> newestEntries) {
    CommittedView view = new CommittedView();
    view.values = new KeyValues(() -> store.values, view.rollbacks);
    view.kept = new KeyValues(() -> store.kept, view.rollbacks);
    for (Map.Entry<String, String> e : store.identities.entrySet()) {
      Address address = Address.parse(e.getKey());
      view.publishKeys(address, decodeKeys(e.getValue()));
    }
    Map<Long, Address> byId = new HashMap<>();
    for (Map.Entry<String, Long> e : store.addresses.entrySet()) {
      byId.put(e.getValue(), Address.parse(e.getKey()));
    }
    // A mailbox's last cursor: its newest entry's, or what a trim that deleted it recorded.
    Map<Long, Long> last = new HashMap<>(store.lastCursors);
    newestEntries.forEach((id, cursor) -> last.merge(id, cursor, Math::max));
    for (Map.Entry<Long, Long> e : last.entrySet()) {
      view.mailboxes.put(byId.get(e.getKey()), new Mailbox(e.getKey(), e.getValue()));
    }
    return view;
  }

  /**
   * A mailbox's committed state, replaced whole so that readers see an id and cursor that belong
   * together.
   *
   * @param id the address id its entries are keyed by ({@link Keys#mailbox})
   * @param lastCursor the cursor of its newest entry ever appended
   */
  record Mailbox(long id, long lastCursor) {}

  /** The committed mailbox of {@code address}, or {@code null} if it never received an entry. */
  Mailbox mailbox(Address address) {
    return mailboxes.get(address);
  }

  Optional<Address> addressOf(Ed25519Key key) {
    return Optional.ofNullable(addressByKey.get(key));
  }

  List<Ed25519Key> keysOf(Address address) {
    return keysByAddress.getOrDefault(address, List.of());
  }

  /** Up to {@code limit} addresses with keys whose text sorts after {@code after}, in that order. */
  List<Address> addresses(String after, int limit) {
    List<Address> page = new ArrayList<>(Math.max(0, Math.min(limit, 1024)));
    for (Address address : addressesByName.tailMap(after, false).values()) {
      if (page.size() >= limit) {
        break;
      }
      page.add(address);
    }
    return page;
  }

  long lastCursor(Address address) {
    Mailbox mailbox = mailboxes.get(address);
    return mailbox == null ? 0 : mailbox.lastCursor();
  }

  /** Makes {@code keys} (possibly none) the committed keys of {@code address}. */
  void publishKeys(Address address, List<Ed25519Key> keys) {
    List<Ed25519Key> old = keysByAddress.getOrDefault(address, List.of());
    for (Ed25519Key key : keys) {
      addressByKey.put(key, address);
    }
    if (keys.isEmpty()) {
      keysByAddress.remove(address);
      addressesByName.remove(address.toString());
    } else {
      keysByAddress.put(address, List.copyOf(keys));
      addressesByName.put(address.toString(), address);
    }
    for (Ed25519Key key : old) {
      if (!keys.contains(key)) {
        // Conditional: the key may have moved to another address in the same batch.
        addressByKey.remove(key, address);
      }
    }
  }

  static String encodeKeys(List<Ed25519Key> keys) {
    List<String> texts = new ArrayList<>(keys.size());
    for (Ed25519Key key : keys) {
      texts.add(key.base64());
    }
    return String.join(Store.KEY_SEPARATOR, texts);
  }

  static List<Ed25519Key> decodeKeys(String stored) {
    List<Ed25519Key> keys = new ArrayList<>();
    for (String text : stored.split(Store.KEY_SEPARATOR)) {
      keys.add(Ed25519Key.fromBase64(text));
    }
    return keys;
  }
}
