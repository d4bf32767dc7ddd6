package org.esmp.server.session;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.esmp.api.Address;
import org.esmp.api.ErrorCode;
import org.esmp.api.RejectedException;
import org.esmp.api.Stored;
import org.esmp.api.spi.Storage;

/**
 * Addresses the operator disabled or removed ({@code esmp-admin users disable|remove}), which may
 * neither {@code auth} nor send: either is answered {@code forbidden}. A disabled address keeps its
 * keys and its mailbox (messages to it are still delivered) until it is enabled again; a removed
 * one has no keys left, and stays reserved so that no one registers it again and receives what
 * was sent to its old owner.
 *
 * <p>Kept in the storage, space {@value #SPACE} (key: the address; value: {@code disabled} or
 * {@code removed}, a space, and the time in ms), changed only through the commits of {@link
 * org.esmp.server.admin.AddressAdmin}, and held here in memory, loaded once at start ({@link #load}),
 * so that the check on every message costs a map lookup. On a storage several servers share, each
 * reads them again every few seconds ({@link #reload}): what the operator changed through one server
 * holds on the others within that time. Only the server writes the space: the
 * plugin host refuses a plugin with the id {@value #SERVER_SPACES}, whose spaces these would be.
 *
 * <p>Thread-safe.
 */
public final class AddressStates {

  /** The plugin id no plugin may take: the server's own spaces are named after it. */
  public static final String SERVER_SPACES = "esmp";
  /** The space the states are kept in. */
  public static final String SPACE = SERVER_SPACES + ".addresses";

  /** What the operator made of an address. */
  public enum State {
    /** It may neither auth nor send until enabled; its keys and mailbox stay. */
    DISABLED,
    /** Its keys are gone and it cannot be registered again. */
    REMOVED;

    /** The word stored and shown: {@code disabled}, {@code removed}. */
    public String word() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** A state and since when, in ms since the epoch. */
  public record Entry(State state, long since) {}

  /** Addresses read from the storage at a time by {@link #load}. */
  private static final int LOAD_PAGE = 1000;

  private final Map<Address, Entry> states = new ConcurrentHashMap<>();
  /** Counts the changes made here, so that a {@link #reload} read before one does not undo it. */
  private final AtomicLong changes = new AtomicLong();

  /**
   * Reads every state from {@code storage}, once, at start.
   *
   * @throws IllegalStateException when a stored value is not one this server wrote
   */
  public void load(Storage storage) {
    states.putAll(read(storage));
  }

  /**
   * Reads every state from {@code storage} again and holds what it finds: for a storage several
   * servers share, whose operator may disable, enable or remove an address through any of them.
   *
   * @return the addresses disabled or removed since the last reading, whose connections are closed
   *
   * @throws IllegalStateException when a stored value is not one this server wrote
   */
  public Set<Address> reload(Storage storage) {
    long before = changes.get();
    Map<Address, Entry> stored = read(storage);
    synchronized (this) {
      if (changes.get() != before) {
        return Set.of(); // changed here meanwhile: what was read may be older; the next reading counts
      }
      return apply(stored);
    }
  }

  private Set<Address> apply(Map<Address, Entry> stored) {
    states.keySet().retainAll(stored.keySet());
    Set<Address> added = new HashSet<>();
    stored.forEach((address, entry) -> {
      if (states.put(address, entry) == null) {
        added.add(address);
      }
    });
    return added;
  }

  private static Map<Address, Entry> read(Storage storage) {
    Map<Address, Entry> read = new HashMap<>();
    String from = "";
    while (true) {
      List<Stored> page = storage.scan(SPACE, from, "\uffff", LOAD_PAGE);
      for (Stored stored : page) {
        read.put(Address.parse(stored.key()), decode(stored.key(), stored.value()));
      }
      if (page.size() < LOAD_PAGE) {
        return read;
      }
      from = page.get(page.size() - 1).key() + '\0';
    }
  }

  /**
   * What the operator made of {@code address} as {@code storage} holds it now, which this server's
   * memory then holds too: for the operator's own commands, whose conditions name the stored state
   * (on a storage several servers share, the memory may be a reading behind).
   *
   * @throws IllegalStateException when the stored value is not one this server wrote
   */
  public Optional<Entry> stored(Storage storage, Address address) {
    Optional<Entry> now = storage.get(SPACE, address.toString()).map(value -> decode(address.toString(), value));
    synchronized (this) {
      changes.incrementAndGet();
      now.ifPresentOrElse(entry -> states.put(address, entry), () -> states.remove(address));
    }
    return now;
  }

  /** What the operator made of {@code address}, if anything. */
  public Optional<Entry> of(Address address) {
    return Optional.ofNullable(states.get(address));
  }

  /**
   * Refuses {@code address} with {@code forbidden} when it is disabled or removed.
   *
   * @throws RejectedException {@code forbidden}, saying which
   */
  public void check(Address address) {
    Entry entry = states.get(address);
    if (entry != null) {
      throw new RejectedException(ErrorCode.FORBIDDEN, entry.state() == State.DISABLED
          ? address + " is disabled on this server"
          : address + " was removed from this server");
    }
  }

  /** Every address with a state; a copy. */
  public Map<Address, Entry> all() {
    return Map.copyOf(states);
  }

  /** Records a change the administration committed; called once it is durable. */
  public synchronized void set(Address address, Entry entry) {
    changes.incrementAndGet();
    states.put(address, entry);
  }

  /** Records that a change the administration committed cleared {@code address}'s state. */
  public synchronized void clear(Address address) {
    changes.incrementAndGet();
    states.remove(address);
  }

  /** The stored form of {@code entry}: {@code "disabled 1700000000000"}. */
  public static byte[] encode(Entry entry) {
    return (entry.state().word() + " " + entry.since()).getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * Reads a stored state.
   *
   * @throws IllegalStateException when {@code stored} is not one this server wrote
   */
  public static Entry decode(String address, byte[] stored) {
    String text = new String(stored, StandardCharsets.US_ASCII);
    int space = text.indexOf(' ');
    try {
      return new Entry(State.valueOf(text.substring(0, space).toUpperCase(Locale.ROOT)),
          Long.parseLong(text.substring(space + 1)));
    } catch (RuntimeException e) {
      throw new IllegalStateException("space " + SPACE + ": the state of " + address + " is damaged: '" + text + "'", e);
    }
  }
}
