package org.esmp.load.net;

/**
 * The server refused a step of a connection's setup with an {@code error} frame (or by closing it):
 * its code and text, and which configuration key to change when the refusal is a limit.
 */
public final class RefusedException extends LoadException {

  private static final long serialVersionUID = 1L;

  /** The setup step refused. */
  public enum Stage {
    /** Before or instead of {@code hello}: the connection limits. */
    CONNECT,
    /** The {@code auth}: registration, the address's connections. */
    AUTH,
    /** The {@code sync}. */
    SYNC,
    /** A message the setup needs, e.g. {@code group_created}. */
    MESSAGE
  }

  private final Stage stage;
  private final String code;

  public RefusedException(Stage stage, String code, String serverText) {
    super(describe(stage, code, serverText));
    this.stage = stage;
    this.code = code;
  }

  public Stage stage() {
    return stage;
  }

  /** The ESMP error code, or null when the server closed the connection without one. */
  public String code() {
    return code;
  }

  private static String describe(Stage stage, String code, String serverText) {
    String what = switch (stage) {
      case CONNECT -> "the server refused the connection";
      case AUTH -> "the server refused auth";
      case SYNC -> "the server refused sync";
      case MESSAGE -> "the server refused a setup message";
    };
    String said = code == null ? ": " + serverText : ": " + code + (serverText == null ? "" : " (" + serverText + ")");
    String hint = Hints.forRefusal(stage, code);
    return what + said + (hint.isEmpty() ? "" : ". " + hint);
  }
}
