package org.esmp.server.backup;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.esmp.server.backup.BackupManifest.FileEntry;
import org.esmp.server.data.DataDirectory;
import org.esmp.server.data.OwnerOnly;

/**
 * Restores a backup ({@link BackupWriter}) into a new data directory, with no server running on
 * it ({@code esmp-admin restore BACKUP_DIR --data-dir NEW_DIR}).
 *
 * <p>The backup is checked whole before anything is written: its {@value BackupManifest#FILE}
 * must be there (a backup without it did not finish), and every file it lists must be there with
 * its size and SHA-256, and no other file. The target must not exist or be an empty directory: a
 * data directory in use, or one holding anything, is refused. It is created readable by the
 * server's user only and held locked ({@link DataDirectory}) while the files are copied, each
 * checked again against the manifest as it is written and forced to disk. A restore that fails
 * deletes what it wrote. Nothing is written into the backup.
 */
public final class Restore {

  private Restore() {}

  /**
   * Restores {@code backup} into {@code target}.
   *
   * @return the backup's manifest
   * @throws BackupException when the backup is partial or damaged, or the target is not new or
   *     empty (nothing is written then)
   * @throws IOException when reading or writing fails
   */
  public static BackupManifest restore(Path backup, Path target) throws IOException {
    if (!Files.isDirectory(backup)) {
      throw new BackupException(backup + " is not a directory");
    }
    BackupManifest manifest = BackupManifest.readFrom(backup);
    check(backup, manifest);
    boolean existed = Files.exists(target, LinkOption.NOFOLLOW_LINKS);
    requireEmpty(target);
    DataDirectory data;
    try {
      data = DataDirectory.open(target);
    } catch (org.esmp.server.data.DataDirectoryInUseException e) {
      throw new BackupException(e.getMessage());
    }
    List<Path> written = new ArrayList<>();
    try {
      try (Stream<Path> entries = Files.list(target)) {
        List<String> names = entries.map(p -> p.getFileName().toString()).toList();
        if (!names.equals(List.of(DataDirectory.LOCK_FILE))) {
          throw new BackupException(target + " is not empty any more: " + names);
        }
      }
      for (FileEntry file : manifest.files()) {
        copyChecked(backup, target, file, written);
      }
      for (Path directory : directories(target, written)) {
        OwnerOnly.syncDirectory(directory);
      }
    } catch (IOException | RuntimeException e) {
      undo(written);
      data.close();
      if (!existed) {
        Files.deleteIfExists(target.resolve(DataDirectory.LOCK_FILE));
        Files.deleteIfExists(target);
      }
      throw e;
    }
    data.close();
    return manifest;
  }

  /** Checks every file the manifest lists, and that it lists every file there is. */
  private static void check(Path backup, BackupManifest manifest) throws IOException {
    Map<String, FileEntry> listed = new TreeMap<>();
    for (FileEntry file : manifest.files()) {
      if (listed.put(safe(file.path()), file) != null) {
        throw new BackupException(BackupManifest.FILE + " lists " + file.path() + " twice");
      }
    }
    Set<String> present = new HashSet<>();
    for (FileEntry found : BackupManifest.describe(backup)) {
      if (found.path().equals(BackupManifest.FILE)) {
        continue;
      }
      present.add(found.path());
      FileEntry expected = listed.get(found.path());
      if (expected == null) {
        throw new BackupException(backup + " holds " + found.path() + ", which its manifest does not list: not a "
            + "backup as it was written");
      }
      if (expected.bytes() != found.bytes() || !expected.sha256().equals(found.sha256())) {
        throw new BackupException(backup + " is damaged: " + found.path() + " is not the file the backup wrote ("
            + found.bytes() + " bytes, expected " + expected.bytes() + "; the SHA-256 "
            + (expected.sha256().equals(found.sha256()) ? "matches" : "differs") + ")");
      }
    }
    for (String path : listed.keySet()) {
      if (!present.contains(path)) {
        throw new BackupException(backup + " is partial: " + path + ", listed in its manifest, is missing");
      }
    }
  }

  /** {@code path} if it names a file inside the backup: relative, without {@code .} or {@code ..} names. */
  private static String safe(String path) {
    if (path.isEmpty() || path.startsWith("/") || path.contains("\\") || path.contains("\0")) {
      throw new BackupException(BackupManifest.FILE + " lists a path outside the backup: " + path);
    }
    for (String name : path.split("/", -1)) {
      if (name.isEmpty() || name.equals(".") || name.equals("..")) {
        throw new BackupException(BackupManifest.FILE + " lists a path outside the backup: " + path);
      }
    }
    return path;
  }

  private static void requireEmpty(Path target) throws IOException {
    if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
      throw new BackupException(target + " exists and is not a directory");
    }
    try (Stream<Path> entries = Files.list(target)) {
      List<String> names = entries.map(p -> p.getFileName().toString()).sorted().limit(3).toList();
      if (!names.isEmpty()) {
        throw new BackupException(target + " is not empty (it holds " + String.join(", ", names)
            + (names.size() == 3 ? ", ..." : "") + "): restore into a new or empty directory, never over a data "
            + "directory");
      }
    }
  }

  /** Copies one file of the backup, checking its size and SHA-256 as it goes; forced to disk. */
  private static void copyChecked(Path backup, Path target, FileEntry file, List<Path> written) throws IOException {
    Path source = backup.resolve(file.path());
    Path copy = target.resolve(file.path());
    Path parent = copy.getParent();
    List<Path> created = new ArrayList<>();
    for (Path p = parent; !p.equals(target) && !Files.exists(p); p = p.getParent()) {
      created.add(0, p);
    }
    for (Path directory : created) {
      OwnerOnly.createDirectory(directory);
      written.add(directory);
    }
    MessageDigest digest = BackupManifest.newDigest();
    long bytes;
    try (InputStream in = new DigestInputStream(Files.newInputStream(source), digest);
        FileChannel out = OwnerOnly.create(copy)) {
      written.add(copy);
      OutputStream stream = Channels.newOutputStream(out);
      bytes = in.transferTo(stream);
      out.force(true);
    }
    if (bytes != file.bytes() || !HexFormat.of().formatHex(digest.digest()).equals(file.sha256())) {
      throw new BackupException(source + " changed while it was restored: it is not the file the backup wrote");
    }
  }

  /** The directories that hold what was written, the target first. */
  private static List<Path> directories(Path target, List<Path> written) {
    Set<Path> directories = new java.util.LinkedHashSet<>();
    directories.add(target);
    for (Path path : written) {
      directories.add(path.getParent());
    }
    return List.copyOf(directories);
  }

  private static void undo(List<Path> written) {
    List<Path> reversed = new ArrayList<>(written);
    reversed.sort(Comparator.comparingInt(Path::getNameCount).reversed());
    for (Path path : reversed) {
      try {
        Files.deleteIfExists(path);
      } catch (IOException e) {
        // Best effort: the target is left for the operator, who is told the restore failed.
      }
    }
  }
}
