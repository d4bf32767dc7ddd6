package org.esmp.api;

/**
 * A message id: the lowercase hex SHA-256 of the sender's raw 32-byte public key followed by the
 * message's signing bytes (ESMP/1 section 2.1). Two senders never share an id.
 */
public record MessageId(String hex) {

  /** Checks the form: 64 lowercase hex digits. */
  public MessageId {
    if (hex == null || hex.length() != 64) {
      throw new IllegalArgumentException("a message id is 64 hex digits");
    }
    for (int i = 0; i < 64; i++) {
      char c = hex.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        throw new IllegalArgumentException("a message id is lowercase hex: " + hex);
      }
    }
  }

  @Override
  public String toString() {
    return hex;
  }
}
