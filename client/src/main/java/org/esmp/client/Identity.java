package org.esmp.client;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Base64;
import java.util.Set;

/**
 * Who the client is: an address, its Ed25519 key and the cursor of the last mailbox entry handled.
 * Kept in a JSON file readable by its owner only:
 *
 * <pre>{"address":"alice#example.com","public_key":B64,"private_key":B64 of the 32-byte seed,"cursor":N}</pre>
 *
 * <p>{@link #create} never overwrites a file; {@link #saveCursor} replaces the file atomically
 * (a crash leaves the old or the new one). An identity without a file ({@link #inMemory}) keeps
 * its cursor in memory only. Thread-safe.
 */
public final class Identity {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> OWNER_ONLY_DIR = PosixFilePermissions.fromString("rwx------");

  private final String address;
  private final SigningKey key;
  private final Path file;
  private long cursor;

  private Identity(String address, SigningKey key, long cursor, Path file) {
    this.address = Addresses.check(address);
    this.key = key;
    this.cursor = cursor;
    this.file = file;
  }

  /** An identity kept in memory only (its cursor is lost with it). */
  public static Identity inMemory(String address, SigningKey key) {
    return new Identity(address, key, 0, null);
  }

  /**
   * Generates a key for {@code address} and writes it to a new file (mode {@code rw-------}; a
   * missing parent directory is created {@code rwx------}).
   *
   * @throws FileAlreadyExistsException if {@code file} exists: an identity is never overwritten
   */
  public static Identity create(Path file, String address) throws IOException {
    Identity identity = new Identity(address, SigningKey.generate(), 0, file);
    Path parent = file.toAbsolutePath().getParent();
    if (!Files.isDirectory(parent)) {
      Files.createDirectories(parent, PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIR));
    }
    // CREATE_NEW: atomic "fail if it exists", and the file is owner-only from its first byte.
    write(file, identity.toJson(0), StandardOpenOption.CREATE_NEW);
    return identity;
  }

  /**
   * Reads an identity file.
   *
   * @throws IOException if it cannot be read, is malformed, or is readable by others than its owner
   */
  public static Identity load(Path file) throws IOException {
    Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
    if (!OWNER_ONLY.containsAll(mode)) {
      throw new IOException("identity file " + file + " is open to others ("
          + PosixFilePermissions.toString(mode) + "); chmod 600 it");
    }
    JsonNode json;
    try {
      json = JSON.readTree(file.toFile());
    } catch (JsonProcessingException e) {
      throw new IOException("identity file " + file + " is not JSON (damaged?): " + e.getOriginalMessage(), e);
    }
    if (json == null || !json.isObject()) {
      throw new IOException("identity file " + file + " is empty or not a JSON object (damaged?)");
    }
    try {
      String address = json.path("address").textValue();
      byte[] seed = Base64.getDecoder().decode(json.path("private_key").asText(""));
      SigningKey key = SigningKey.fromSeed(seed);
      Arrays.fill(seed, (byte) 0);
      String publicKey = json.path("public_key").asText("");
      if (!publicKey.equals(key.publicKeyBase64())) {
        throw new IOException("identity file " + file + ": public_key does not match private_key");
      }
      long cursor = json.path("cursor").asLong(0);
      if (address == null) {
        throw new IOException("identity file " + file + " has no address");
      }
      return new Identity(address, key, cursor, file);
    } catch (IllegalArgumentException e) {
      throw new IOException("identity file " + file + " is malformed: " + e.getMessage(), e);
    }
  }

  public String address() {
    return address;
  }

  public String domain() {
    return Addresses.domain(address);
  }

  public SigningKey key() {
    return key;
  }

  /** The file this identity lives in, or null for an in-memory one. */
  public Path file() {
    return file;
  }

  /** The cursor of the last mailbox entry handled (0: none); the next sync starts after it. */
  public synchronized long cursor() {
    return cursor;
  }

  /**
   * Records that every mailbox entry up to {@code newCursor} is handled, and writes the file. A
   * cursor at or below the current one changes nothing.
   */
  public synchronized void saveCursor(long newCursor) throws IOException {
    if (newCursor <= cursor) {
      return;
    }
    if (file != null) {
      Path temp = file.resolveSibling(file.getFileName() + ".tmp");
      Files.deleteIfExists(temp);
      write(temp, toJson(newCursor), StandardOpenOption.CREATE_NEW);
      Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
    cursor = newCursor;
  }

  private byte[] toJson(long atCursor) {
    ObjectNode json = JSON.createObjectNode();
    json.put("address", address);
    json.put("public_key", key.publicKeyBase64());
    byte[] seed = key.seed();
    json.put("private_key", Base64.getEncoder().encodeToString(seed));
    Arrays.fill(seed, (byte) 0);
    json.put("cursor", atCursor);
    return Jcs.compact(json);
  }

  private static void write(Path path, byte[] content, StandardOpenOption mode) throws IOException {
    FileAttribute<Set<PosixFilePermission>> ownerOnly = PosixFilePermissions.asFileAttribute(OWNER_ONLY);
    try (FileChannel channel = FileChannel.open(path,
        Set.of(mode, StandardOpenOption.WRITE), ownerOnly);
        OutputStream out = java.nio.channels.Channels.newOutputStream(channel)) {
      out.write(content);
      out.write('\n');
      out.flush();
      channel.force(true);
    }
  }

  @Override
  public String toString() {
    return "Identity[" + address + ", " + key.publicKeyBase64() + "]";
  }
}
