package org.esmp.client;

import java.io.IOException;

/** The server answered a message with {@code error}: its {@link #code()} says why (ESMP-1 §3). */
public class ServerException extends IOException {

  private static final long serialVersionUID = 1L;

  private final String code;
  private final String re;

  public ServerException(String code, String message, String re) {
    super(code + ": " + message);
    this.code = code;
    this.re = re;
  }

  /** The error code, e.g. {@code unknown_recipient}, {@code not_member}, {@code forbidden}. */
  public String code() {
    return code;
  }

  /** The id of the message it answers, or null. */
  public String re() {
    return re;
  }
}
