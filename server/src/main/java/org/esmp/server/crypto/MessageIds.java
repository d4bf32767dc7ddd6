package org.esmp.server.crypto;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;
import org.esmp.api.Ed25519Key;
import org.esmp.api.MessageId;

/**
 * Computes message ids (ESMP/1 section 2.1): the lowercase hex SHA-256 of the sender's raw 32-byte
 * public key followed by the signing bytes. Including the key means two senders never share an id,
 * even for identical signing bytes.
 *
 * <p>Thread-safe; stateless apart from one reusable digest per thread.
 */
public final class MessageIds {

  private static final HexFormat HEX = HexFormat.of();

  // Looking up a MessageDigest per call costs more than hashing a small message; a digest is
  // reset by digest(), so each thread can keep one.
  private static final ThreadLocal<MessageDigest> SHA_256 = ThreadLocal.withInitial(() -> {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform provides SHA-256", e);
    }
  });

  private MessageIds() {}

  /**
   * The id of the message with these signing bytes sent under {@code key}.
   *
   * @throws NullPointerException when an argument is null
   */
  public static MessageId of(Ed25519Key key, byte[] signingBytes) {
    // Checked before update(): a failure between update() and digest() would leave this thread's
    // digest holding the key bytes and corrupt its next id.
    Objects.requireNonNull(signingBytes, "signingBytes");
    byte[] raw = key.bytes();
    MessageDigest sha = SHA_256.get();
    sha.update(raw);
    return new MessageId(HEX.formatHex(sha.digest(signingBytes)));
  }
}
