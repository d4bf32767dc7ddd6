package org.esmp.server.admin;

import java.util.Locale;

/**
 * Why an administration request was refused or failed: answered on the admin channel as
 * {@code {"ok":false,"error":KIND,"message":...}}, and printed by {@code esmp-admin} as one line.
 */
public final class AdminException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** What kind of refusal or failure. */
  public enum Kind {
    /** The request is malformed, or names something malformed (an address, a key). */
    BAD_REQUEST,
    /** It names what does not exist (an address, a group). */
    NOT_FOUND,
    /** The state forbids it (a removed address, a key bound to another address). */
    CONFLICT,
    /** The server cannot do it (no storage, or one that cannot). */
    UNAVAILABLE,
    /** It failed while being done (a write failed). */
    FAILED;

    /** The word on the wire: {@code bad_request}, {@code not_found}... */
    public String wire() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final Kind kind;

  public AdminException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public AdminException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
