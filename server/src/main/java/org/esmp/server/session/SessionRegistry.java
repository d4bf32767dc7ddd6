package org.esmp.server.session;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.esmp.api.Ed25519Key;

/** The authenticated connections of the running server, by the key they authenticated with. */
public final class SessionRegistry {

  private final Map<Ed25519Key, Set<ConnectionSession>> byKey = new ConcurrentHashMap<>();

  /** Records that {@code session} authenticated with {@code key}; forgets it when it closes. */
  public void authenticated(ConnectionSession session, Ed25519Key key) {
    byKey.computeIfAbsent(key, k -> ConcurrentHashMap.newKeySet()).add(session);
    session.onClose(() -> byKey.computeIfPresent(key, (k, sessions) -> {
      sessions.remove(session);
      return sessions.isEmpty() ? null : sessions;
    }));
  }

  /** Closes every connection that authenticated with {@code key}. */
  public void closeAll(Ed25519Key key) {
    Set<ConnectionSession> sessions = byKey.remove(key);
    if (sessions != null) {
      sessions.forEach(ConnectionSession::close);
    }
  }
}
