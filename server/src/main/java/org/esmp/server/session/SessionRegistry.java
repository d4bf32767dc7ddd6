package org.esmp.server.session;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.esmp.api.Ed25519Key;
import org.esmp.api.MessageId;

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
