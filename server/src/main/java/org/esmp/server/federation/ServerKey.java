package org.esmp.server.federation;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import org.esmp.api.Ed25519Key;
import org.bouncycastle.math.ec.rfc8032.Ed25519;
import org.esmp.server.data.OwnerOnly;

/**
 * The server's own Ed25519 key (ESMP/1 section 8): made on first start, kept in the data
 * directory as {@value #FILE} (the base64 of its 32-byte seed, one line, readable by the server's
 * user only), announced in every {@code hello} as {@code server_key}. Peers pin it or remember it:
 * it is the server's identity, so it moves with the data directory (a backup carries it) and is
 * never made again while the file is there.
 */
public final class ServerKey {

  /** The file in the data directory. */
  public static final String FILE = "server.key";

  private final byte[] seed;
  private final byte[] publicKey;

  private ServerKey(byte[] seed) {
    this.seed = seed;
    this.publicKey = new byte[Ed25519.PUBLIC_KEY_SIZE];
    Ed25519.generatePublicKey(seed, 0, publicKey, 0);
  }

  /**
   * The key of the data directory {@code dataDir}, made and written there first if it has none.
   *
   * @throws IOException naming the file when it cannot be read or written, or is not a key
   */
  public static ServerKey loadOrCreate(Path dataDir) throws IOException {
    Path file = dataDir.resolve(FILE);
    try {
      return read(file);
    } catch (NoSuchFileException absent) {
      byte[] seed = new byte[Ed25519.SECRET_KEY_SIZE];
      new SecureRandom().nextBytes(seed);
      try {
        write(file, seed);
      } catch (FileAlreadyExistsException raced) {
        return read(file); // made by another process just now: that one is the key
      }
      return new ServerKey(seed);
    }
  }

  /**
   * The key in {@code file}.
   *
   * @throws NoSuchFileException when there is none
   * @throws IOException naming the file when it is not the base64 of 32 bytes
   */
  public static ServerKey read(Path file) throws IOException {
    String text = Files.readString(file, StandardCharsets.US_ASCII).strip();
    byte[] seed;
    try {
      seed = Base64.getDecoder().decode(text);
    } catch (IllegalArgumentException e) {
      seed = new byte[0];
    }
    if (seed.length != Ed25519.SECRET_KEY_SIZE) {
      throw new IOException(file + " is not a server key (the base64 of a 32-byte Ed25519 seed); restore it from a "
          + "backup: peers know this server by it");
    }
    return new ServerKey(seed);
  }

  /** Writes the seed to a new owner-only file, forced to disk, never over an existing one. */
  private static void write(Path file, byte[] seed) throws IOException {
    Path partial = file.resolveSibling(FILE + ".new");
    Files.deleteIfExists(partial);
    OwnerOnly.writeForced(partial, (Base64.getEncoder().encodeToString(seed) + "\n").getBytes(StandardCharsets.US_ASCII));
    try {
      // A link fails when the name exists: the key is never replaced, and never seen half written.
      Files.createLink(file, partial);
    } finally {
      Files.deleteIfExists(partial);
    }
    try {
      OwnerOnly.syncDirectory(file.getParent());
    } catch (IOException ignored) {
      // not every system syncs a directory; the file itself is on disk
    }
  }

  /** The public key. */
  public Ed25519Key publicKey() {
    return Ed25519Key.of(publicKey.clone());
  }

  /** The Ed25519 signature of {@code message} under this key. */
  public byte[] sign(byte[] message) {
    byte[] signature = new byte[Ed25519.SIGNATURE_SIZE];
    Ed25519.sign(seed, 0, message, 0, message.length, signature, 0);
    return signature;
  }

  /** The public key, standard base64, as {@code hello} carries it. */
  public String publicKeyBase64() {
    return Base64.getEncoder().encodeToString(publicKey);
  }
}
