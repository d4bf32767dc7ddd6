package org.esmp.server.session;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.esmp.api.Address;
import org.esmp.api.Ed25519Key;
import org.esmp.api.MessageId;

/**
 * The authenticated connections of the running server, by the key and the address they
 * authenticated with; an address may have at most {@code maxPerAddress} of them. Thread-safe.
 */
public final class SessionRegistry {

  private final Map<Ed25519Key, Set<ConnectionSession>> byKey = new ConcurrentHashMap<>();
  private final Map<Address, Set<ConnectionSession>> byAddress = new ConcurrentHashMap<>();
  private final int maxPerAddress;

  /** @param maxPerAddress most connections authenticated as one address at once */
  public SessionRegistry(int maxPerAddress) {
    this.maxPerAddress = maxPerAddress;
  }

  /**
   * Counts {@code session} among {@code address}'s connections, unless the address has
   * {@code maxPerAddress} others already; forgets it when it closes. A session already counted is
   * admitted again.
   *
   * @return whether the session may authenticate as {@code address}
   */
  public boolean admit(ConnectionSession session, Address address) {
    boolean[] added = new boolean[1];
    boolean[] admitted = new boolean[1];
    byAddress.compute(address, (a, sessions) -> {
      Set<ConnectionSession> following = sessions != null ? sessions : ConcurrentHashMap.newKeySet();
      if (following.contains(session)) {
        admitted[0] = true;
      } else if (following.size() < maxPerAddress) {
        admitted[0] = added[0] = following.add(session);
      }
      return following.isEmpty() ? null : following;
    });
    if (added[0]) {
      forgetOnClose(byAddress, address, session);
    }
    return admitted[0];
  }

  /** Records that {@code session} authenticated with {@code key}; forgets it when it closes. */
  public void authenticated(ConnectionSession session, Ed25519Key key) {
    // compute, not computeIfAbsent and add: the set may be one a closing session just dropped.
    byKey.compute(key, (k, sessions) -> {
      Set<ConnectionSession> with = sessions != null ? sessions : ConcurrentHashMap.newKeySet();
      with.add(session);
      return with;
    });
    forgetOnClose(byKey, key, session);
  }

  /** Takes {@code session} out of {@code map}'s set under {@code key} once it closes; drops an emptied set. */
  private static <K> void forgetOnClose(Map<K, Set<ConnectionSession>> map, K key, ConnectionSession session) {
    session.onClose(() -> map.computeIfPresent(key, (k, sessions) -> {
      sessions.remove(session);
      return sessions.isEmpty() ? null : sessions;
    }));
  }

  /**
   * Closes every connection authenticated as {@code address}: the operator disabled or removed it.
   *
   * @return how many were open
   */
  public int closeAll(Address address) {
    Set<ConnectionSession> sessions = byAddress.remove(address);
    if (sessions == null) {
      return 0;
    }
    sessions.forEach(ConnectionSession::close);
    return sessions.size();
  }

  /**
   * Closes every connection that authenticated with {@code key}; {@code requester}, if it is one of
   * them, once it has written its answer to message {@code answering}.
   */
  public void closeAll(Ed25519Key key, ConnectionSession requester, MessageId answering) {
    Set<ConnectionSession> sessions = byKey.remove(key);
    if (sessions == null) {
      return;
    }
    for (ConnectionSession session : sessions) {
      if (session == requester) {
        session.closeAfterAnswering(answering);
      } else {
        session.close();
      }
    }
  }
}
