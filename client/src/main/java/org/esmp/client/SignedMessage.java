package org.esmp.client;

import static java.nio.charset.StandardCharsets.UTF_8;

/**
 * A message signed by a client's identity, ready to send: its id (the {@code re} of its answer)
 * and the frame as compact JSON text. Made by {@link EsmpClient#sign}; sending the same one again
 * after a lost connection is safe, since the server knows it by its id (ESMP-1 §3: an {@code ack}
 * with {@code "duplicate":true} if it had accepted it). Immutable and thread-safe.
 */
public final class SignedMessage {

  private final String id;
  private final String json;

  SignedMessage(String id, String json) {
    this.id = id;
    this.json = json;
  }

  /** From {@link Messages#sign}. */
  static SignedMessage of(Messages.Signed signed) {
    return new SignedMessage(signed.id(), Frames.compact(signed.frame()));
  }

  /** The message id: lowercase hex SHA-256 of the public key and the signing bytes. */
  public String id() {
    return id;
  }

  /** The signed message, {@code signature} and {@code sender_pubkey} included, as one line of JSON. */
  public String json() {
    return json;
  }

  byte[] bytes() {
    return json.getBytes(UTF_8);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SignedMessage m && id.equals(m.id) && json.equals(m.json);
  }

  @Override
  public int hashCode() {
    return id.hashCode();
  }

  @Override
  public String toString() {
    return "SignedMessage[" + id + "]";
  }
}
