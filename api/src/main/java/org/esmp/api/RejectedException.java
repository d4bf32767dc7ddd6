package org.esmp.api;

import java.util.Objects;

/**
 * Refuses one message with an error code of the protocol. A plugin throws it (or completes its
 * future with it) and the sender gets {@code {"type":"error","code":...,"message":...}}. Any other
 * exception from a plugin becomes {@link ErrorCode#INTERNAL}.
 */
public class RejectedException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final ErrorCode code;

  /**
   * @param code the protocol error code
   * @param message human text for the sender; no secrets, no message bodies
   */
  public RejectedException(ErrorCode code, String message) {
    super(message, null, false, false);
    this.code = Objects.requireNonNull(code, "code");
  }

  /** The protocol error code. */
  public ErrorCode code() {
    return code;
  }
}
