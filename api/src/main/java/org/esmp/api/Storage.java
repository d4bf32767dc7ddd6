package org.esmp.api;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.pf4j.ExtensionPoint;

/**
 * Where the server keeps what must survive a restart. Exactly one storage is used: if several
 * plugins provide one, the server refuses to start. Other plugins reach it through
 * {@link ServerContext#storage()}.
 *
 * <p>All methods are thread-safe. The lookups are called for every message and must answer from
 * memory or a page cache, without a disk sync. Writes complete their stage only once the change is
 * durable; implementations should commit many writes together (group commit).
 */
public interface Storage extends ExtensionPoint {

  /** The address {@code key} is bound to, if any. */
  Optional<Address> addressOf(Ed25519Key key);

  /** The keys bound to {@code address}, oldest first; empty when the address does not exist. */
  List<Ed25519Key> keysOf(Address address);

  /** What {@link #register} did. */
  enum Registration {
    /** The address did not exist and was created with the key. */
    CREATED,
    /** The key was already bound to this address; nothing changed. */
    ALREADY_BOUND,
    /** The address exists with other keys; nothing changed. */
    ADDRESS_TAKEN,
    /** The key is bound to another address; nothing changed. */
    KEY_TAKEN
  }

  /**
   * Atomically creates {@code address} bound to {@code key} unless either is taken.
   *
   * @return the outcome, completed once a creation is durable
   */
  CompletionStage<Registration> register(Address address, Ed25519Key key);

  /** Flushes and closes the store; called once when the server stops. */
  default void close() {}
}
