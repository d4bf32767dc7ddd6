package org.esmp.client;

/**
 * A message received from the server that the client refuses: its signature does not verify, its
 * id is not the one the server gave, or it is malformed. Never ignore it: it means the server or
 * the network altered what the sender signed.
 */
public class InvalidMessageException extends java.io.IOException {

  private static final long serialVersionUID = 1L;

  private final transient Delivery delivery;

  public InvalidMessageException(String message) {
    this(message, null);
  }

  public InvalidMessageException(String message, Delivery delivery) {
    super(message);
    this.delivery = delivery;
  }

  /** The refused delivery as the server sent it (its cursor, claimed sender and id), or null. */
  public Delivery delivery() {
    return delivery;
  }
}
