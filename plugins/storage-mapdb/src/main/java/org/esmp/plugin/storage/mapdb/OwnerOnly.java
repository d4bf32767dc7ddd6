package org.esmp.plugin.storage.mapdb;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Creates the storage's directory and files readable by the server's user only (0700, 0600) where
 * the file system has POSIX permissions, and makes each creation or deletion durable by forcing the
 * directory that holds the name.
 */
final class OwnerOnly {

  private static final FileAttribute<?> DIRECTORY =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
  private static final FileAttribute<?> FILE =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

  private OwnerOnly() {}

  /** Attributes for a new file in {@code directory}: owner read and write only, where supported. */
  static FileAttribute<?>[] fileAttributes(Path directory) throws IOException {
    return posix(directory) ? new FileAttribute<?>[] {FILE} : new FileAttribute<?>[0];
  }

  /**
   * Creates {@code directory} (0700) unless it exists, and forces its parent so that the new name
   * survives a power loss. The parent must exist.
   *
   * @return whether it was created
   */
  static boolean createDirectory(Path directory) throws IOException {
    if (Files.isDirectory(directory)) {
      return false;
    }
    Path parent = directory.toAbsolutePath().getParent();
    if (posix(parent)) {
      Files.createDirectory(directory, DIRECTORY);
    } else {
      Files.createDirectory(directory);
    }
    syncDirectory(parent);
    return true;
  }

  /**
   * Creates the empty file {@code file} (0600) unless it exists, and forces its directory.
   *
   * @return whether it was created
   */
  static boolean createFile(Path file) throws IOException {
    if (Files.exists(file)) {
      return false;
    }
    Path parent = file.toAbsolutePath().getParent();
    Files.createFile(file, fileAttributes(parent));
    syncDirectory(parent);
    return true;
  }

  /** Forces {@code directory}, so that names created in or removed from it survive a power loss. */
  static void syncDirectory(Path directory) throws IOException {
    try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  private static boolean posix(Path directory) throws IOException {
    return Files.getFileStore(directory).supportsFileAttributeView(PosixFileAttributeView.class);
  }
}
