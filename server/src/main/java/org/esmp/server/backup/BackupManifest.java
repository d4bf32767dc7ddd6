package org.esmp.server.backup;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.esmp.server.data.OwnerOnly;

/**
 * What a backup directory holds, written last ({@value #FILE}) so that a backup without it is one
 * that did not finish: the format, the server and storage that wrote it, when, the domains served,
 * and every other file of the directory with its size and SHA-256. {@link Restore} refuses a
 * directory whose files do not match it exactly.
 *
 * @param serverVersion the version of the server that took it
 * @param createdAt when its backup point was taken (the storage's copy shows that instant)
 * @param domains the domains the server served
 * @param storagePlugin the id of the storage plugin whose files it holds
 * @param storageVersion that plugin's version
 * @param files every file but the manifest, paths relative to the backup directory, {@code /}
 *     between names, in a stable order
 */
public record BackupManifest(String serverVersion, Instant createdAt, List<String> domains, String storagePlugin,
    String storageVersion, List<FileEntry> files) {

  /** The manifest's file name in a backup directory. */
  public static final String FILE = "manifest.json";
  /** The format this server writes and reads. */
  public static final String FORMAT = "esmp-backup/1";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int BUFFER = 1 << 16;

  public BackupManifest {
    domains = List.copyOf(domains);
    files = List.copyOf(files);
  }

  /** A file of a backup: its path relative to the backup directory, its size, its SHA-256 in hex. */
  public record FileEntry(String path, long bytes, String sha256) {}

  /** The total size of the files. */
  public long totalBytes() {
    return files.stream().mapToLong(FileEntry::bytes).sum();
  }

  /**
   * Describes every regular file under {@code directory} (none may be named {@value #FILE} yet).
   *
   * @throws IOException when a file cannot be read, or something other than a regular file or
   *     directory is there
   */
  public static List<FileEntry> describe(Path directory) throws IOException {
    List<Path> paths;
    try (var walk = Files.walk(directory)) {
      paths = walk.filter(p -> !p.equals(directory)).sorted().toList();
    }
    List<FileEntry> entries = new ArrayList<>();
    for (Path path : paths) {
      if (Files.isDirectory(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        continue;
      }
      if (!Files.isRegularFile(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        throw new IOException(path + " is neither a file nor a directory");
      }
      entries.add(new FileEntry(relative(directory, path), Files.size(path), sha256(path)));
    }
    return entries;
  }

  /** {@code path} relative to {@code directory}, with {@code /} between names. */
  static String relative(Path directory, Path path) {
    List<String> names = new ArrayList<>();
    directory.relativize(path).forEach(name -> names.add(name.toString()));
    return String.join("/", names);
  }

  /** The SHA-256 of {@code file}'s bytes, in lowercase hex. */
  static String sha256(Path file) throws IOException {
    MessageDigest digest = newDigest();
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buffer = new byte[BUFFER];
      for (int n; (n = in.read(buffer)) > 0; ) {
        digest.update(buffer, 0, n);
      }
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  static MessageDigest newDigest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  /**
   * Writes this manifest into {@code directory} as {@value #FILE}, durably and at once: written
   * beside it first, forced, then renamed over, and the directory forced.
   */
  public void writeTo(Path directory) throws IOException {
    ObjectNode root = JSON.createObjectNode();
    root.put("format", FORMAT);
    root.put("server_version", serverVersion);
    root.put("created_at", createdAt.toString());
    ArrayNode served = root.putArray("domains");
    domains.forEach(served::add);
    ObjectNode storage = root.putObject("storage");
    storage.put("plugin", storagePlugin);
    storage.put("version", storageVersion);
    ArrayNode list = root.putArray("files");
    for (FileEntry file : files) {
      list.addObject().put("path", file.path()).put("bytes", file.bytes()).put("sha256", file.sha256());
    }
    byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
    Path partial = directory.resolve(FILE + ".partial");
    Files.deleteIfExists(partial);
    OwnerOnly.writeForced(partial, bytes);
    Files.move(partial, directory.resolve(FILE), StandardCopyOption.ATOMIC_MOVE);
    OwnerOnly.syncDirectory(directory);
  }

  /**
   * Reads the manifest of the backup in {@code directory}.
   *
   * @throws BackupException when there is none, or it is not one this server reads
   */
  public static BackupManifest readFrom(Path directory) throws IOException {
    Path file = directory.resolve(FILE);
    JsonNode root;
    try {
      root = JSON.readTree(Files.readAllBytes(file));
    } catch (NoSuchFileException e) {
      throw new BackupException(directory + " is not a complete backup: it has no " + FILE
          + " (a backup that did not finish, or not a backup directory)");
    } catch (JsonProcessingException e) {
      throw new BackupException(file + " is damaged: not JSON");
    }
    if (root == null || !root.isObject() || !FORMAT.equals(root.path("format").asText(null))) {
      throw new BackupException(file + " is not a manifest of format " + FORMAT + " (format: "
          + (root == null ? "none" : root.path("format").asText("none")) + ")");
    }
    try {
      List<String> domains = new ArrayList<>();
      root.path("domains").forEach(d -> domains.add(d.asText()));
      List<FileEntry> files = new ArrayList<>();
      if (!root.path("files").isArray()) {
        throw new BackupException(file + " is damaged: it lists no files");
      }
      for (JsonNode entry : root.path("files")) {
        String path = required(entry, "path").asText();
        JsonNode bytes = required(entry, "bytes");
        String sha = required(entry, "sha256").asText();
        if (!bytes.canConvertToLong() || bytes.longValue() < 0 || !sha.matches("[0-9a-f]{64}")) {
          throw new BackupException(file + " is damaged: a file entry is " + entry);
        }
        files.add(new FileEntry(path, bytes.longValue(), sha));
      }
      return new BackupManifest(required(root, "server_version").asText(),
          Instant.parse(required(root, "created_at").asText()), domains,
          required(root.path("storage"), "plugin").asText(), required(root.path("storage"), "version").asText(), files);
    } catch (RuntimeException e) {
      if (e instanceof BackupException) {
        throw e;
      }
      throw new BackupException(file + " is damaged: " + e.getMessage());
    }
  }

  private static JsonNode required(JsonNode object, String name) {
    JsonNode value = object.get(name);
    if (value == null || value.isNull()) {
      throw new BackupException(FILE + " has no " + name);
    }
    return value;
  }
}
