package org.esmp.api;

import java.util.Arrays;
import java.util.Base64;

/**
 * A raw 32-byte Ed25519 public key as carried in {@code sender_pubkey}. Holding one says nothing
 * about whether it decodes to a curve point: the server checks that when it verifies a signature.
 */
public final class Ed25519Key {

  /** Length of a raw Ed25519 public key. */
  public static final int LENGTH = 32;

  private final byte[] raw;
  private final String base64;

  private Ed25519Key(byte[] raw, String base64) {
    this.raw = raw;
    this.base64 = base64;
  }

  /** The key of these 32 bytes (copied). */
  public static Ed25519Key of(byte[] raw) {
    if (raw.length != LENGTH) {
      throw new IllegalArgumentException("an Ed25519 public key is 32 bytes, got " + raw.length);
    }
    byte[] copy = raw.clone();
    return new Ed25519Key(copy, Base64.getEncoder().encodeToString(copy));
  }

  /**
   * The key whose standard, padded base64 form is {@code base64}; pad bits must be zero, so each key
   * has exactly one text form.
   *
   * @throws IllegalArgumentException when {@code base64} is not that form of 32 bytes
   */
  public static Ed25519Key fromBase64(String base64) {
    byte[] raw;
    try {
      raw = Base64.getDecoder().decode(base64);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not standard base64");
    }
    if (raw.length != LENGTH) {
      throw new IllegalArgumentException("an Ed25519 public key is 32 bytes, got " + raw.length);
    }
    if (!Base64.getEncoder().encodeToString(raw).equals(base64)) {
      throw new IllegalArgumentException("not the canonical padded base64 form");
    }
    return new Ed25519Key(raw, base64);
  }

  /** A copy of the 32 raw bytes. */
  public byte[] bytes() {
    return raw.clone();
  }

  /** The standard padded base64 form, as on the wire. */
  public String base64() {
    return base64;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Ed25519Key k && Arrays.equals(k.raw, raw);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(raw);
  }

  @Override
  public String toString() {
    return base64;
  }
}
