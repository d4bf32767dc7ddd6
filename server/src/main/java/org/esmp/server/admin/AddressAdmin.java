package org.esmp.server.admin;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.esmp.api.Address;
import org.esmp.api.Ed25519Key;
import org.esmp.api.spi.Storage;
import org.esmp.api.spi.StorageChange;
import org.esmp.server.admin.AdminException.Kind;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.crypto.Ed25519Verifier;
import org.esmp.server.session.AddressStates;
import org.esmp.server.session.AddressStates.Entry;
import org.esmp.server.session.AddressStates.State;
import org.esmp.server.session.IdentityService;
import org.esmp.server.session.SessionRegistry;
import org.esmp.server.store.Commits;

/**
 * The operator's changes to addresses ({@code esmp-admin users ...}), made while the server runs:
 *
 * <ul>
 *   <li><b>add</b> a key to an address, creating it: as {@code esmp-server add-user} does offline,
 *       the operator's act, so neither {@code registration: closed} nor {@code reserved_names} nor
 *       {@code max_keys_per_address} apply; a removed address is not given out again;
 *   <li><b>disable</b>: the address may neither {@code auth} nor send ({@code forbidden}), its
 *       connections are closed; its keys and mailbox stay, and messages to it are still delivered;
 *   <li><b>enable</b> undoes that;
 *   <li><b>remove</b>: every key of the address is unbound (the keys may then be bound to other
 *       addresses), its connections are closed, and the address stays reserved, so that no one
 *       registers it again and syncs what was sent to its old owner. Its mailbox is left to
 *       retention, readable by no one meanwhile; messages to it are refused
 *       ({@code unknown_recipient}). Group memberships are the group plugin's: the address stays
 *       listed in its groups (receiving nothing) until a group admin removes it.
 * </ul>
 *
 * <p>Each change is checked and committed in the queue of identity changes ({@link
 * IdentityService#serialized}), so it never interleaves with an {@code auth} that registers or a
 * {@code key_add}, and each commit is conditional on the address's keys and state being what the
 * checks saw. Thread-safe; the stages complete on server workers.
 */
public final class AddressAdmin {

  /** The outcome of a change: whether anything changed, and one line saying what. */
  public record Change(boolean changed, String summary) {}

  /** An address with its keys, oldest first, and what the operator made of it, if anything. */
  public record User(Address address, List<Ed25519Key> keys, Optional<Entry> state) {}

  private final ServerConfig config;
  private final Supplier<Storage> storage;
  private final Commits commits;
  private final IdentityService identities;
  private final SessionRegistry sessions;
  private final AddressStates states;
  private final Ed25519Verifier keys;
  private final Clock clock;

  /** @param keys checks that a key added is a valid Ed25519 public key */
  public AddressAdmin(ServerConfig config, Supplier<Storage> storage, Commits commits, IdentityService identities,
      SessionRegistry sessions, AddressStates states, Ed25519Verifier keys, Clock clock) {
    this.config = config;
    this.storage = storage;
    this.commits = commits;
    this.identities = identities;
    this.sessions = sessions;
    this.states = states;
    this.keys = keys;
    this.clock = clock;
  }

  /**
   * Up to {@code limit} addresses that exist, in the order of their text, after {@code after}.
   *
   * @throws AdminException {@code unavailable} when the storage cannot list addresses
   */
  public List<User> list(String after, int limit) {
    Storage store = storage.get();
    List<Address> page;
    try {
      page = store.addresses(after, limit);
    } catch (UnsupportedOperationException e) {
      throw new AdminException(Kind.UNAVAILABLE, "the storage in use cannot list addresses (" + e.getMessage() + ")");
    }
    List<User> users = new ArrayList<>(page.size());
    for (Address address : page) {
      users.add(new User(address, store.keysOf(address), states.of(address)));
    }
    return users;
  }

  /** Adds {@code key} to {@code address}, creating the address if it has no key yet. */
  public CompletionStage<Change> addKey(Address address, Ed25519Key key) {
    served(address);
    if (!keys.isValidKey(key)) {
      throw new AdminException(Kind.BAD_REQUEST, "the key is not an Ed25519 curve point of prime order");
    }
    return identities.serialized(() -> {
      Storage store = storage.get();
      if (states.stored(store, address).filter(e -> e.state() == State.REMOVED).isPresent()) {
        throw new AdminException(Kind.CONFLICT, address + " was removed, and a removed address is not given out again");
      }
      Optional<Address> owner = store.addressOf(key);
      if (owner.filter(address::equals).isPresent()) {
        return CompletableFuture.completedFuture(new Change(false, address + " has that key already"));
      }
      if (owner.isPresent()) {
        throw new AdminException(Kind.CONFLICT, "that key is bound to " + owner.get());
      }
      List<Ed25519Key> current = store.keysOf(address);
      return commits.commitServerChange(StorageChange.builder().expectKeys(address, current).bindKey(address, key))
          .thenApply(cursors -> new Change(true, (current.isEmpty() ? "added " : "added a key to ") + address));
    });
  }

  /** Disables {@code address}: see the class comment. */
  public CompletionStage<Change> disable(Address address) {
    served(address);
    return identities.serialized(() -> {
      Storage store = storage.get();
      Optional<Entry> now = states.stored(store, address);
      List<Ed25519Key> current = existing(store, address, now);
      if (now.isPresent()) {
        return CompletableFuture.completedFuture(new Change(false, address + " is disabled already"));
      }
      Entry disabled = new Entry(State.DISABLED, clock.millis());
      StorageChange.Builder change = StorageChange.builder().expectKeys(address, current)
          .expectAbsent(AddressStates.SPACE, address.toString())
          .put(AddressStates.SPACE, address.toString(), AddressStates.encode(disabled));
      return commits.commitServerChange(change).thenApply(cursors -> {
        states.set(address, disabled);
        int closed = sessions.closeAll(address);
        return new Change(true, "disabled " + address + closedConnections(closed));
      });
    });
  }

  /** Enables {@code address} again after {@link #disable}. */
  public CompletionStage<Change> enable(Address address) {
    served(address);
    return identities.serialized(() -> {
      Storage store = storage.get();
      Optional<Entry> now = states.stored(store, address);
      existing(store, address, now);
      if (now.isEmpty()) {
        return CompletableFuture.completedFuture(new Change(false, address + " is not disabled"));
      }
      StorageChange.Builder change = StorageChange.builder()
          .expect(AddressStates.SPACE, address.toString(), AddressStates.encode(now.get()))
          .delete(AddressStates.SPACE, address.toString());
      return commits.commitServerChange(change).thenApply(cursors -> {
        states.clear(address);
        return new Change(true, "enabled " + address);
      });
    });
  }

  /** Removes {@code address}: see the class comment. */
  public CompletionStage<Change> remove(Address address) {
    served(address);
    return identities.serialized(() -> {
      Storage store = storage.get();
      Optional<Entry> now = states.stored(store, address);
      if (now.filter(e -> e.state() == State.REMOVED).isPresent()) {
        return CompletableFuture.completedFuture(new Change(false, address + " was removed already"));
      }
      List<Ed25519Key> current = existing(store, address, now);
      Entry removed = new Entry(State.REMOVED, clock.millis());
      StorageChange.Builder change = StorageChange.builder().expectKeys(address, current);
      current.forEach(key -> change.unbindKey(address, key));
      if (now.isPresent()) {
        change.expect(AddressStates.SPACE, address.toString(), AddressStates.encode(now.get()));
      } else {
        change.expectAbsent(AddressStates.SPACE, address.toString());
      }
      change.put(AddressStates.SPACE, address.toString(), AddressStates.encode(removed));
      return commits.commitServerChange(change).thenApply(cursors -> {
        states.set(address, removed);
        int closed = sessions.closeAll(address);
        return new Change(true, "removed " + address + " (" + current.size() + (current.size() == 1 ? " key" : " keys")
            + " unbound" + closedConnections(closed) + ")");
      });
    });
  }

  /** The addresses removed, with since when, in the order of their text. */
  public List<User> removed() {
    return states.all().entrySet().stream()
        .filter(e -> e.getValue().state() == State.REMOVED)
        .map(e -> new User(e.getKey(), List.of(), Optional.of(e.getValue())))
        .sorted((a, b) -> a.address().toString().compareTo(b.address().toString()))
        .toList();
  }

  private void served(Address address) {
    if (!config.serves(address.domain())) {
      throw new AdminException(Kind.BAD_REQUEST, "this server does not serve " + address.domain()
          + " (domains: " + String.join(", ", config.domains()) + ")");
    }
  }

  /** The keys of {@code address}, which must exist and not be removed. */
  private static List<Ed25519Key> existing(Storage store, Address address, Optional<Entry> state) {
    if (state.filter(e -> e.state() == State.REMOVED).isPresent()) {
      throw new AdminException(Kind.CONFLICT, address + " was removed");
    }
    List<Ed25519Key> current = store.keysOf(address);
    if (current.isEmpty()) {
      throw new AdminException(Kind.NOT_FOUND, "no address " + address + " on this server");
    }
    return current;
  }

  private static String closedConnections(int closed) {
    return closed == 0 ? "" : ", " + closed + (closed == 1 ? " connection" : " connections") + " closed";
  }
}
