package org.esmp.api;

/** The error codes of ESMP/1 section 3, each with its wire name. */
public enum ErrorCode {
  /** Not JSON, not an object, or not I-JSON (duplicate key, lone surrogate, out-of-range number, too deep). */
  BAD_JSON("bad_json"),
  /** The frame exceeded the maximum length; the connection is closed after this error. */
  FRAME_TOO_LARGE("frame_too_large"),
  /** A required field is absent ({@code ts} included, on every type but the session types). */
  MISSING_FIELD("missing_field"),
  /** A field is present but of the wrong form, or a body the type refuses. */
  BAD_FIELD("bad_field"),
  /** The signature does not verify under {@code sender_pubkey}. */
  BAD_SIGNATURE("bad_signature"),
  /** {@code ts} differs from the server clock by more than the allowed skew. */
  STALE("stale"),
  /** {@code sender_pubkey} is bound to no address of this server. */
  UNKNOWN_SENDER("unknown_sender"),
  /** The message needs an authenticated connection. */
  AUTH_REQUIRED("auth_required"),
  /** The sender may not do this. */
  FORBIDDEN("forbidden"),
  /** No installed plugin declares the type. */
  UNSUPPORTED_TYPE("unsupported_type"),
  /** No recipient could be accepted. */
  UNKNOWN_RECIPIENT("unknown_recipient"),
  /** More distinct recipients than allowed. */
  TOO_MANY_RECIPIENTS("too_many_recipients"),
  /** The group does not exist. */
  NO_SUCH_GROUP("no_such_group"),
  /** A group with that id exists already. */
  GROUP_EXISTS("group_exists"),
  /** The sender is not a member of the group. */
  NOT_MEMBER("not_member"),
  /** The sender is sending too fast. */
  RATE_LIMITED("rate_limited"),
  /**
   * The server of another domain that the message needs could not be reached (ESMP/1 section 8);
   * a retry is safe (since 1.3).
   */
  PEER_UNAVAILABLE("peer_unavailable"),
  /** The server failed; the message was not accepted. */
  INTERNAL("internal");

  private final String wire;

  ErrorCode(String wire) {
    this.wire = wire;
  }

  /** The code as it appears in an {@code error} frame. */
  public String wire() {
    return wire;
  }
}
