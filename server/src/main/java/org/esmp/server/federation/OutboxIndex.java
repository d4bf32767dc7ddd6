package org.esmp.server.federation;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.esmp.api.Address;
import org.esmp.api.Stored;
import org.esmp.api.Writes;
import org.esmp.api.spi.Storage;
import org.esmp.api.spi.StorageChange;
import org.esmp.server.session.AddressStates;

/**
 * Which addresses of other domains have outbox entries (see {@link org.esmp.api.federation.Federation}):
 * a commit that appends to such an address's mailbox also records the address, and its domain, in
 * the server's space {@value #SPACE}, so that the relay finds every entry after a crash too. Then
 * the relay is told. Keys: {@code d/DOMAIN} and {@code a/DOMAIN/ADDRESS}, empty values.
 *
 * <p>Addresses recorded are remembered (up to {@value #REMEMBERED}) so that later commits to them
 * write nothing more. Thread-safe.
 */
public final class OutboxIndex {

  /** The server's space of the index. */
  public static final String SPACE = AddressStates.SERVER_SPACES + ".outbox";

  /** An index that records nothing: for a server without federation (tests, one-shot commands). */
  public static final OutboxIndex NONE = new OutboxIndex(domain -> true, domains -> {});

  private static final int REMEMBERED = 100_000;
  private static final byte[] EMPTY = new byte[0];

  private final Predicate<String> served;
  private final Consumer<Set<String>> appended;
  private final Set<Address> recorded = ConcurrentHashMap.newKeySet();

  /**
   * @param served whether this server serves a domain: appends to other domains are the outbox
   * @param appended told, after a commit, the domains it appended outbox entries for
   */
  public OutboxIndex(Predicate<String> served, Consumer<Set<String>> appended) {
    this.served = served;
    this.appended = appended;
  }

  /** {@code change} with the index entries of its outbox appends not recorded yet; itself when none. */
  public StorageChange indexed(StorageChange change) {
    List<Writes.Put> extra = null;
    for (Writes.Append append : change.writes().appends()) {
      Address address = append.address();
      if (served.test(address.domain()) || recorded.contains(address)) {
        continue;
      }
      if (extra == null) {
        extra = new ArrayList<>();
      }
      extra.add(new Writes.Put(SPACE, domainKey(address.domain()), EMPTY));
      extra.add(new Writes.Put(SPACE, addressKey(address), EMPTY));
    }
    if (extra == null) {
      return change;
    }
    Writes writes = change.writes();
    List<Writes.Put> puts = new ArrayList<>(writes.puts());
    puts.addAll(extra);
    return new StorageChange(new Writes(writes.expectations(), writes.deletes(), puts, writes.appends(), writes.keeps()),
        change.bindKeys(), change.unbindKeys(), change.expectedKeys(), change.accepted());
  }

  /** After {@code change} committed: remembers its outbox addresses and tells the relay of their domains. */
  public void committed(StorageChange change) {
    Set<String> domains = null;
    for (Writes.Append append : change.writes().appends()) {
      Address address = append.address();
      if (served.test(address.domain())) {
        continue;
      }
      if (recorded.size() < REMEMBERED) {
        recorded.add(address);
      }
      if (domains == null) {
        domains = new LinkedHashSet<>();
      }
      domains.add(address.domain());
    }
    if (domains != null) {
      appended.accept(domains);
    }
  }

  /** The domains with outbox entries, from the index. */
  public static List<String> domains(Storage storage) {
    List<String> domains = new ArrayList<>();
    for (Stored stored : scanAll(storage, "d/", "d0")) {
      domains.add(stored.key().substring(2));
    }
    return domains;
  }

  /** The addresses of {@code domain} with outbox entries, from the index. */
  public static List<Address> addresses(Storage storage, String domain) {
    String prefix = "a/" + domain + "/";
    List<Address> addresses = new ArrayList<>();
    for (Stored stored : scanAll(storage, prefix, "a/" + domain + "0")) {
      String text = stored.key().substring(prefix.length());
      if (Address.isValid(text)) {
        addresses.add(Address.parse(text));
      }
    }
    return addresses;
  }

  private static List<Stored> scanAll(Storage storage, String from, String to) {
    List<Stored> all = new ArrayList<>();
    String next = from;
    while (true) {
      List<Stored> page = storage.scan(SPACE, next, to, 1000);
      all.addAll(page);
      if (page.size() < 1000) {
        return all;
      }
      next = page.get(page.size() - 1).key() + "\0";
    }
  }

  private static String domainKey(String domain) {
    return "d/" + domain;
  }

  private static String addressKey(Address address) {
    return "a/" + address.domain() + "/" + address;
  }
}
