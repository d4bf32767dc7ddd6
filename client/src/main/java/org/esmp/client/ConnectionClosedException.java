package org.esmp.client;

import java.io.IOException;

/**
 * The connection closed before the answer came. The message may or may not have been accepted:
 * send the same {@link SignedMessage} again (same id) and a server that had accepted it answers
 * with its first {@code ack} and {@code "duplicate":true}.
 */
public class ConnectionClosedException extends IOException {

  private static final long serialVersionUID = 1L;

  public ConnectionClosedException(String message, Throwable cause) {
    super(message, cause);
  }
}
