package org.esmp.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Set;

/**
 * Signing and checking ESMP/1 messages (ESMP-1 §2.1): the signing bytes are the RFC 8785 form of
 * the message without its top-level {@code signature} and {@code sender_pubkey}; the id is the hex
 * SHA-256 of the raw public key followed by the signing bytes.
 */
public final class Messages {

  /** The two members that the signature does not cover. */
  public static final Set<String> UNSIGNED_MEMBERS = Set.of("signature", "sender_pubkey");

  private Messages() {}

  /** A signed message: the frame to send and its id (the {@code re} of its answer). */
  public record Signed(ObjectNode frame, String id) {}

  /** The signing bytes of {@code message} (its own {@code signature}/{@code sender_pubkey} ignored). */
  public static byte[] signingBytes(JsonNode message) {
    return Jcs.canonicalWithout(message, UNSIGNED_MEMBERS);
  }

  /** The message id: lowercase hex SHA-256 of {@code publicKey} followed by {@code signingBytes}. */
  public static String id(byte[] publicKey, byte[] signingBytes) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(publicKey);
      sha.update(signingBytes);
      return HexFormat.of().formatHex(sha.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  /**
   * Signs {@code message} in place with {@code key}: sets {@code signature} and {@code
   * sender_pubkey} (replacing any) and returns it with its id. Throws {@link
   * IllegalArgumentException} for a value that is not I-JSON (an integer beyond 2^53−1, a lone
   * surrogate), which a server would refuse.
   */
  public static Signed sign(ObjectNode message, SigningKey key) {
    byte[] bytes = signingBytes(message);
    message.put("signature", Base64.getEncoder().encodeToString(key.sign(bytes)));
    message.put("sender_pubkey", key.publicKeyBase64());
    return new Signed(message, id(key.publicKey(), bytes));
  }

  /**
   * Checks that {@code message} carries a valid signature by its own {@code sender_pubkey} and
   * returns its id.
   *
   * @throws InvalidMessageException when a field is missing or malformed or the signature does
   *     not verify
   */
  public static String verify(JsonNode message) throws InvalidMessageException {
    if (message == null || !message.isObject()) {
      throw new InvalidMessageException("no signed message object");
    }
    byte[] publicKey = base64(message, "sender_pubkey", 32);
    byte[] signature = base64(message, "signature", 64);
    byte[] bytes;
    try {
      bytes = signingBytes(message);
    } catch (IllegalArgumentException notIJson) {
      // e.g. an integer beyond 2^53-1 or a number out of a double's range: nothing signs that.
      throw new InvalidMessageException("not I-JSON: " + notIJson.getMessage());
    }
    if (!SigningKey.verify(publicKey, bytes, signature)) {
      throw new InvalidMessageException("signature does not verify");
    }
    return id(publicKey, bytes);
  }

  private static byte[] base64(JsonNode message, String field, int length)
      throws InvalidMessageException {
    JsonNode value = message.get(field);
    if (value == null || !value.isTextual()) {
      throw new InvalidMessageException("no " + field);
    }
    byte[] raw;
    try {
      raw = Base64.getDecoder().decode(value.textValue());
    } catch (IllegalArgumentException e) {
      throw new InvalidMessageException(field + " is not base64");
    }
    // Canonical form only: padded, pad bits zero, as the server requires of senders.
    if (raw.length != length
        || !Base64.getEncoder().encodeToString(raw).equals(value.textValue())) {
      throw new InvalidMessageException(field + " is not the base64 of " + length + " bytes");
    }
    return raw;
  }
}
