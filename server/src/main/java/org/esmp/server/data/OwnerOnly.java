package org.esmp.server.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * Creates files and directories readable and writable by the server's user only: mode 0600 for
 * files and 0700 for directories, set at creation (never a window with wider permissions; the
 * umask can only narrow them). On file systems without POSIX permissions they are created with
 * the file system's defaults (on Windows, the ACLs inherited from the parent).
 */
public final class OwnerOnly {

  private static final Set<PosixFilePermission> GROUP_OR_OTHERS = EnumSet.of(
      PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
      PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

  private OwnerOnly() {}

  /** Whether {@code path}'s file system has POSIX permissions. */
  public static boolean posix(Path path) {
    return path.getFileSystem().supportedFileAttributeViews().contains("posix");
  }

  /** Attributes for a new file at {@code path}: mode 0600, or none without POSIX permissions. */
  public static FileAttribute<?>[] file(Path path) {
    return posix(path)
        ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))}
        : new FileAttribute<?>[0];
  }

  /** Attributes for a new directory at {@code path}: mode 0700, or none without POSIX permissions. */
  public static FileAttribute<?>[] directory(Path path) {
    return posix(path)
        ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"))}
        : new FileAttribute<?>[0];
  }

  /**
   * Creates the directory {@code dir} owner-only when it does not exist; its missing parents are
   * created with the usual defaults (they are not the server's to restrict). The parent is forced
   * to disk after the creation: a data directory whose name a power loss could take back would
   * take every durable commit in it along.
   *
   * @return whether it was created here; {@code false} when it existed already
   * @throws IOException when it cannot be created, or exists and is not a directory
   */
  public static boolean createDirectory(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      return false;
    }
    Path parent = dir.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    try {
      Files.createDirectory(dir, directory(dir));
    } catch (FileAlreadyExistsException e) {
      if (Files.isDirectory(dir)) {
        return false; // created meanwhile by someone else
      }
      throw e;
    }
    if (parent != null) {
      syncDirectory(parent);
    }
    return true;
  }

  /** Forces {@code directory} to disk, so that names created in it survive a power loss. */
  public static void syncDirectory(Path directory) throws IOException {
    try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  /**
   * Opens the new owner-only file {@code target} for writing; it must not exist.
   *
   * @throws FileAlreadyExistsException when it does
   */
  public static FileChannel create(Path target) throws IOException {
    return FileChannel.open(target, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), file(target));
  }

  /** Writes {@code bytes} to the new owner-only file {@code target}, forced to disk. */
  public static void writeForced(Path target, byte[] bytes) throws IOException {
    try (FileChannel out = create(target)) {
      ByteBuffer buffer = ByteBuffer.wrap(bytes);
      while (buffer.hasRemaining()) {
        out.write(buffer);
      }
      out.force(true);
    }
  }

  /** Copies {@code source} to the new owner-only file {@code target}, forced to disk. */
  public static void copyForced(Path source, Path target) throws IOException {
    copy(source, target, true);
  }

  private static void copy(Path source, Path target, boolean forced) throws IOException {
    try (InputStream in = Files.newInputStream(source); FileChannel out = create(target)) {
      in.transferTo(Channels.newOutputStream(out));
      if (forced) {
        out.force(true);
      }
    }
  }

  /** Copies {@code source} to the new owner-only file {@code target}, which must not exist. */
  public static void copy(Path source, Path target) throws IOException {
    copy(source, target, false);
  }

  /**
   * The permissions of {@code path} when they give the group or others any access, e.g.
   * {@code rwxr-xr-x}; empty when they do not, or the file system has no POSIX permissions.
   */
  public static Optional<String> widerThanOwner(Path path) throws IOException {
    if (!posix(path)) {
      return Optional.empty();
    }
    Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(path);
    return permissions.stream().anyMatch(GROUP_OR_OTHERS::contains)
        ? Optional.of(PosixFilePermissions.toString(permissions))
        : Optional.empty();
  }
}
