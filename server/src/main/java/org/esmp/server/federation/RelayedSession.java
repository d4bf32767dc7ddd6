package org.esmp.server.federation;

import java.util.Optional;
import org.esmp.api.Address;
import org.esmp.api.Session;
import org.esmp.api.json.JsonObject;
import org.esmp.server.session.ConnectionSession;

/**
 * A remote sender's connection as plugins see it, for a message its server forwarded (ESMP/1
 * section 8): authenticated as the sender, on that server's word (it checked the sender's own
 * connection). Frames pushed to it are dropped: the sender's server pushes to the sender what its
 * mailbox there gets.
 */
public final class RelayedSession implements Session {

  private final ConnectionSession connection;
  private final Address sender;

  public RelayedSession(ConnectionSession connection, Address sender) {
    this.connection = connection;
    this.sender = sender;
  }

  @Override
  public String id() {
    return connection.id() + "/" + sender;
  }

  @Override
  public Optional<Address> address() {
    return Optional.of(sender);
  }

  @Override
  public void push(JsonObject frame) {
    // Nothing reaches a remote client from here: its server relays what it is to get.
  }

  @Override
  public boolean isOpen() {
    return connection.isOpen();
  }

  @Override
  public void close() {
    connection.close();
  }

  @Override
  public String toString() {
    return id();
  }
}
