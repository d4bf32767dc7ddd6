package org.esmp.server.backup;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Instant;
import java.util.Comparator;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import org.esmp.api.spi.Storage;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.data.DataDirectory;
import org.esmp.server.data.OwnerOnly;
import org.esmp.server.plugin.PluginHost;
import org.esmp.server.plugin.PluginRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The online backup ({@code esmp-admin backup DIR}): a copy of the data directory a server can be
 * started from, taken while the server runs.
 *
 * <ol>
 *   <li>The storage writes a consistent copy of its own subdirectory ({@link Storage#backup}): it
 *       holds every message acknowledged before the backup began, and no part of a commit, while
 *       commits go on.
 *   <li>Every other regular file of the data directory is copied as it is then: files the server or
 *       a plugin keeps beside the storage (a server key, a plugin's settings). Left out: the lock
 *       ({@value DataDirectory#LOCK_FILE}), the plugin jars' copies
 *       ({@value DataDirectory#PLUGIN_COPIES}/), the admin socket, and anything that is not a
 *       regular file. Such files are not made consistent with the storage: a plugin that needs that
 *       keeps its data in its store.
 *   <li>{@value BackupManifest#FILE} is written last, listing every file with its size and SHA-256:
 *       a directory without it is a backup that did not finish.
 * </ol>
 *
 * <p>The target must be new or empty and outside the data directory; it is created readable by
 * the server's user only, every file is forced to disk, and a backup that fails is deleted. One
 * backup at a time. Blocks: called on an administration thread.
 */
public final class BackupWriter {

  private static final Logger log = LoggerFactory.getLogger(BackupWriter.class);

  private final ServerConfig config;
  private final PluginHost plugins;
  private final String serverVersion;
  private final Clock clock;
  private final ReentrantLock busy = new ReentrantLock();

  /** @param serverVersion written into the manifest */
  public BackupWriter(ServerConfig config, PluginHost plugins, String serverVersion, Clock clock) {
    this.config = config;
    this.plugins = plugins;
    this.serverVersion = serverVersion;
    this.clock = clock;
  }

  /**
   * Writes a backup into {@code target}.
   *
   * @return its manifest
   * @throws BackupException when it cannot be taken here (a target in use, no storage, a storage
   *     that cannot, another backup running), or failed (with the cause)
   */
  public BackupManifest write(Path target) throws IOException {
    if (!busy.tryLock()) {
      throw new BackupException("a backup is being taken already; wait for it to end");
    }
    try {
      PluginRegistry.Owned<Storage> storage = plugins.registry().storage()
          .orElseThrow(() -> new BackupException("no storage plugin is installed: nothing to back up"));
      Path data = config.dataDir().toRealPath();
      Path dir = target.toAbsolutePath().normalize();
      if (resolved(dir).startsWith(data)) {
        throw new BackupException(dir + " is inside the data directory " + data + ": back up to another directory");
      }
      boolean created = prepare(dir);
      try {
        Instant at = clock.instant();
        long started = System.nanoTime();
        storageBackup(storage, dir);
        copyTheRest(data, dir, storage.pluginId());
        BackupManifest manifest = new BackupManifest(serverVersion, at, config.domains(), storage.pluginId(),
            plugins.versions().getOrDefault(storage.pluginId(), "unknown"), BackupManifest.describe(dir));
        manifest.writeTo(dir);
        log.info("Backup written to {}: {} files, {} bytes, in {} ms", dir, manifest.files().size(),
            manifest.totalBytes(), (System.nanoTime() - started) / 1_000_000);
        return manifest;
      } catch (IOException | RuntimeException e) {
        deleteQuietly(dir, created);
        throw e;
      }
    } finally {
      busy.unlock();
    }
  }

  /** The storage's copy of itself, into {@code dir}. */
  private static void storageBackup(PluginRegistry.Owned<Storage> storage, Path dir) throws IOException {
    try {
      storage.extension().backup(dir).toCompletableFuture().get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BackupException("interrupted while the storage wrote its backup");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof UnsupportedOperationException) {
        throw new BackupException("the storage plugin " + storage.pluginId() + " cannot take an online backup ("
            + cause.getMessage() + "): stop the server and copy the data directory instead");
      }
      throw new BackupException("the storage plugin " + storage.pluginId() + " failed to write its backup: " + cause,
          cause);
    }
  }

  /** Creates {@code dir} owner-only, or checks that it is an empty directory; whether it was created. */
  private static boolean prepare(Path dir) throws IOException {
    if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
        throw new BackupException(dir + " exists and is not a directory");
      }
      try (Stream<Path> entries = Files.list(dir)) {
        if (entries.findAny().isPresent()) {
          throw new BackupException(dir + " is not empty: back up into a new or empty directory");
        }
      }
      return false;
    }
    try {
      return OwnerOnly.createDirectory(dir);
    } catch (java.nio.file.AccessDeniedException e) {
      throw new BackupException("cannot create " + dir + ": permission denied (the server's user writes the backup)");
    } catch (IOException e) {
      throw new BackupException("cannot create " + dir + ": " + e);
    }
  }

  /** {@code dir} with its nearest existing ancestor resolved to its real path (symlinks followed). */
  private static Path resolved(Path dir) throws IOException {
    Path existing = dir;
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    return existing == null ? dir : existing.toRealPath().resolve(existing.relativize(dir));
  }

  /** Copies the regular files of {@code data} into {@code dir} but those the storage wrote and those left out. */
  private static void copyTheRest(Path data, Path dir, String storageDirectory) throws IOException {
    Set<String> leftOutDirectories = Set.of(DataDirectory.PLUGIN_COPIES, storageDirectory);
    Set<String> leftOutFiles = Set.of(DataDirectory.LOCK_FILE, DataDirectory.ADMIN_SOCKET);
    Files.walkFileTree(data, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path directory, BasicFileAttributes attributes) throws IOException {
        if (directory.equals(data)) {
          return FileVisitResult.CONTINUE;
        }
        Path relative = data.relativize(directory);
        if (relative.getNameCount() == 1 && leftOutDirectories.contains(relative.toString())) {
          return FileVisitResult.SKIP_SUBTREE;
        }
        OwnerOnly.createDirectory(dir.resolve(relative.toString()));
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) throws IOException {
        Path relative = data.relativize(file);
        if (relative.getNameCount() == 1 && leftOutFiles.contains(relative.toString())) {
          return FileVisitResult.CONTINUE;
        }
        if (!attributes.isRegularFile()) {
          log.info("Backup: {} left out (not a regular file)", file);
          return FileVisitResult.CONTINUE;
        }
        try {
          OwnerOnly.copyForced(file, dir.resolve(relative.toString()));
        } catch (NoSuchFileException e) {
          log.info("Backup: {} was deleted while it was being copied; left out", file);
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
        if (e instanceof NoSuchFileException) {
          return FileVisitResult.CONTINUE; // deleted since it was listed
        }
        throw e;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path directory, IOException e) throws IOException {
        if (e != null) {
          throw e;
        }
        OwnerOnly.syncDirectory(dir.resolve(data.relativize(directory).toString()));
        return FileVisitResult.CONTINUE;
      }
    });
  }

  /** Deletes what a failed backup wrote: the files, and the directory itself if it was created. */
  private static void deleteQuietly(Path dir, boolean created) {
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
        if (created || !path.equals(dir)) {
          Files.deleteIfExists(path);
        }
      }
    } catch (IOException | RuntimeException e) {
      log.warn("Backup: could not delete the partial backup in {}: {}", dir, e.toString());
    }
  }
}
