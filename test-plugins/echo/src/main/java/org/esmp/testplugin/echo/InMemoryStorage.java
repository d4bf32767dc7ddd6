package org.esmp.testplugin.echo;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.esmp.api.Address;
import org.esmp.api.Ed25519Key;
import org.esmp.api.Storage;
import org.pf4j.Extension;

/** Identities in memory, for tests that exercise the core without a real store. Not durable. */
@Extension
public class InMemoryStorage implements Storage {

  private final Map<Ed25519Key, Address> owners = new HashMap<>();
  private final Map<Address, List<Ed25519Key>> keys = new HashMap<>();

  @Override
  public synchronized Optional<Address> addressOf(Ed25519Key key) {
    return Optional.ofNullable(owners.get(key));
  }

  @Override
  public synchronized List<Ed25519Key> keysOf(Address address) {
    return List.copyOf(keys.getOrDefault(address, List.of()));
  }

  @Override
  public synchronized CompletionStage<Registration> register(Address address, Ed25519Key key) {
    Address owner = owners.get(key);
    Registration outcome;
    if (owner != null) {
      outcome = owner.equals(address) ? Registration.ALREADY_BOUND : Registration.KEY_TAKEN;
    } else if (keys.containsKey(address)) {
      outcome = Registration.ADDRESS_TAKEN;
    } else {
      owners.put(key, address);
      keys.computeIfAbsent(address, a -> new ArrayList<>()).add(key);
      outcome = Registration.CREATED;
    }
    return CompletableFuture.completedFuture(outcome);
  }
}
