package org.esmp.server.federation;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.esmp.api.spi.Storage;
import org.esmp.api.spi.StorageChange;
import org.esmp.server.session.AddressStates;

/**
 * The groups whose home is another server (ESMP/1 section 8): learned from the thread entries that
 * home relays here for local members, kept in the server's space {@value #SPACE} (key: the group
 * id; value: the home's domain). A local member's message for such a group goes to its home.
 * Thread-safe.
 */
public final class GroupHomes {

  /** The server's space of group homes. */
  public static final String SPACE = AddressStates.SERVER_SPACES + ".homes";

  private static final int REMEMBERED = 100_000;

  private final Supplier<Storage> storage;
  /** Homes read or written, including "none here" as the empty string. */
  private final Map<String, String> known = new ConcurrentHashMap<>();

  public GroupHomes(Supplier<Storage> storage) {
    this.storage = storage;
  }

  /** The domain of the server that is {@code groupId}'s home, when that is another server. */
  public Optional<String> homeOf(String groupId) {
    String home = known.get(groupId);
    if (home == null) {
      home = storage.get().get(SPACE, groupId).map(bytes -> new String(bytes, StandardCharsets.UTF_8)).orElse("");
      if (known.size() < REMEMBERED) {
        known.put(groupId, home);
      }
    }
    return home.isEmpty() ? Optional.empty() : Optional.of(home);
  }

  /** Adds the record that {@code groupId}'s home is {@code domain} to {@code change}, unless it is known already. */
  public void record(StorageChange.Builder change, String groupId, String domain) {
    if (!domain.equals(known.get(groupId))) {
      change.put(SPACE, groupId, domain.getBytes(StandardCharsets.UTF_8));
    }
  }

  /** After a commit with {@link #record}: remembered (while fewer than {@value #REMEMBERED} are). */
  public void recorded(String groupId, String domain) {
    if (known.size() < REMEMBERED || known.containsKey(groupId)) {
      known.put(groupId, domain);
    }
  }
}
