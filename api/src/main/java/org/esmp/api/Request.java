package org.esmp.api;

import java.util.Optional;

/** A verified message as handed to a plugin, with where and when it arrived. */
public interface Request {

  /** The verified message. */
  SignedMessage message();

  /**
   * The address the sender's key is bound to. Present for every type except {@code auth}, which is
   * how a key first gets an address.
   */
  Optional<Address> sender();

  /** The connection the message arrived on. */
  Session session();

  /** When the server received the message, milliseconds since the Unix epoch. */
  long receivedAt();

  /**
   * The domain of the server that relayed this message on its sender's behalf (ESMP/1 section 8),
   * for a message that came from another server: a group's home gets its remote members' messages
   * so. Its {@link #sender()} is then the address that server vouches for, and {@link #session()}
   * that server's connection, seen as the sender's. Empty for a message a client sent here (since
   * 1.3).
   */
  default Optional<String> peer() {
    return Optional.empty();
  }
}
