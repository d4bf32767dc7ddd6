package org.esmp.api;

import java.util.Optional;
import org.esmp.api.json.JsonObject;

/**
 * One client connection as plugins see it. Implementations are thread-safe.
 */
public interface Session {

  /** An id for this connection, unique within the running server; for logs and maps. */
  String id();

  /** The address this connection authenticated as with {@code auth}, if it has. */
  Optional<Address> address();

  /**
   * Sends a server frame (for example {@code deliver}) to this connection. Frames pushed by one
   * thread go out in the order pushed. Never blocks; a frame pushed after the connection closed is
   * dropped. A frame pushed while the connection is over its share of the server's output budget
   * (its client is not reading) is dropped and the connection closed: its client syncs again from
   * its cursor, so push what the mailbox also holds, or what may be lost.
   */
  void push(JsonObject frame);

  /** Whether the connection is still open. */
  boolean isOpen();

  /** Closes the connection after what was already written. */
  void close();
}
