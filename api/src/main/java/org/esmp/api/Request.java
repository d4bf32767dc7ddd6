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
}
