package org.esmp.plugin.storage.postgres;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.esmp.api.Address;
import org.esmp.api.Ed25519Key;
import org.esmp.api.MessageId;

/**
 * The stored forms of keys and ids, and the advisory locks that guard them. Thread-safe
 * (stateless).
 */
final class Keys {

  private static final byte VALUE_LOCK = 1;
  private static final byte ADDRESS_LOCK = 2;
  private static final byte KEY_LOCK = 3;

  private Keys() {}

  /**
   * A plugin key as stored: its UTF-16 code units, big-endian. Bytewise order of these is
   * {@link String#compareTo} order, and every string (lone surrogates too) survives the trip.
   */
  static byte[] key(String key) {
    byte[] bytes = new byte[key.length() * 2];
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      bytes[2 * i] = (byte) (c >>> 8);
      bytes[2 * i + 1] = (byte) c;
    }
    return bytes;
  }

  /** The key stored as {@code bytes} ({@link #key(String)}). */
  static String key(byte[] bytes) {
    char[] chars = new char[bytes.length / 2];
    for (int i = 0; i < chars.length; i++) {
      chars[i] = (char) (((bytes[2 * i] & 0xff) << 8) | (bytes[2 * i + 1] & 0xff));
    }
    return new String(chars);
  }

  /** A message id as stored: its 32 bytes. */
  static byte[] id(MessageId id) {
    return HexFormat.of().parseHex(id.hex());
  }

  static MessageId id(byte[] stored) {
    return new MessageId(HexFormat.of().formatHex(stored));
  }

  /**
   * The advisory lock of a plugin key: held by every change that expects, puts or keeps it, so that
   * an expectation that the key is absent holds until its change commits.
   */
  static long valueLock(String space, String key) {
    return lock(VALUE_LOCK, space.getBytes(StandardCharsets.UTF_8), key(key));
  }

  /** The advisory lock of an address's keys: held by every change that expects, binds or unbinds them. */
  static long addressLock(Address address) {
    return lock(ADDRESS_LOCK, address.toString().getBytes(StandardCharsets.UTF_8), new byte[0]);
  }

  /** The advisory lock of a key of an address: held by every change that binds or unbinds it. */
  static long keyLock(Ed25519Key key) {
    return lock(KEY_LOCK, key.bytes(), new byte[0]);
  }

  /**
   * 64 bits of SHA-256 over the kind and both parts (the first one's length first, so that no two
   * pairs meet). The same on every server; two values sharing a lock only wait for each other.
   */
  private static long lock(byte kind, byte[] first, byte[] second) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      digest.update(kind);
      digest.update(ByteBuffer.allocate(Integer.BYTES).putInt(first.length).array());
      digest.update(first);
      digest.update(second);
      return ByteBuffer.wrap(digest.digest()).getLong();
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("every JDK has SHA-256", e);
    }
  }
}
