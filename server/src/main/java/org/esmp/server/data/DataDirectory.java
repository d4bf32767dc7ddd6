package org.esmp.server.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.esmp.server.config.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's data directory, held by this process alone from {@link #open} to {@link #close}:
 * an exclusive lock on {@value #LOCK_FILE} in it keeps a second server (or {@code add-user}) off
 * the same directory, so that nothing the core cleans up at start (the {@link #pluginCopies()
 * plugin copies}) can belong to a server that is still running. The lock is the operating
 * system's ({@link FileChannel#tryLock()}): it goes with the process, so a killed server leaves
 * nothing to remove by hand. The lock file itself stays; it holds the pid of the last holder.
 *
 * <p>The directory is created owner-only (0700) when it does not exist. One that exists with
 * wider permissions is logged as a warning and left as the operator made it.
 *
 * <p>Thread-safe. Closing is idempotent.
 */
public final class DataDirectory implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(DataDirectory.class);

  /** The lock file, in the data directory. */
  public static final String LOCK_FILE = "server.lock";
  /**
   * The running server's administration socket, in the data directory ({@link
   * org.esmp.server.admin.AdminChannel}); removed when it stops.
   */
  public static final String ADMIN_SOCKET = "admin.sock";
  /** The directory of the plugin jars' private copies, in the data directory. */
  public static final String PLUGIN_COPIES = "plugin-copies";

  /**
   * Data directories locked by this process. The operating system's locks are per process and
   * closing any channel on a locked file drops the process's lock on it, so a second channel on
   * the lock file must never be opened in this process while the first holds the lock.
   */
  private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

  private final Path dir;
  private final Path key;
  private final FileChannel channel;
  private final FileLock lock;
  private boolean closed; // guarded by this

  private DataDirectory(Path dir, Path key, FileChannel channel, FileLock lock) {
    this.dir = dir;
    this.key = key;
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * Creates {@code dir} when needed and takes its lock.
   *
   * @throws DataDirectoryInUseException when another server (in this process or another) holds it
   * @throws ConfigException when it cannot be used, saying why (not a directory, permission
   *     denied, no space left): the operator's to fix, as a bad setting is
   * @throws IOException when it cannot be read otherwise
   */
  public static DataDirectory open(Path dir) throws IOException {
    if (Files.exists(dir) && !Files.isDirectory(dir)) {
      throw new ConfigException("data directory " + dir.toAbsolutePath() + " is not a directory (a file is there): "
          + "give --data-dir a directory, or a path that does not exist yet");
    }
    boolean created;
    try {
      created = OwnerOnly.createDirectory(dir);
    } catch (IOException e) {
      throw unusable("cannot create data directory " + dir.toAbsolutePath(), e);
    }
    if (!created) {
      OwnerOnly.widerThanOwner(dir).ifPresent(permissions -> log.warn(
          "Data directory {} is accessible to other users ({}); it holds identities and mailboxes: "
              + "consider chmod 700", dir.toAbsolutePath(), permissions));
    }
    Path key = dir.toRealPath();
    if (!HELD.add(key)) {
      throw new DataDirectoryInUseException(dir, Long.toString(ProcessHandle.current().pid()));
    }
    try {
      Path file = dir.resolve(LOCK_FILE);
      FileChannel channel = FileChannel.open(file,
          EnumSet.of(StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE), OwnerOnly.file(file));
      FileLock lock;
      try {
        lock = channel.tryLock();
        if (lock == null) {
          throw new DataDirectoryInUseException(dir, holder(channel));
        }
        byte[] pid = (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII);
        channel.truncate(0);
        channel.write(ByteBuffer.wrap(pid), 0);
      } catch (IOException | RuntimeException e) {
        channel.close();
        throw e;
      }
      return new DataDirectory(dir, key, channel, lock);
    } catch (DataDirectoryInUseException | RuntimeException e) {
      HELD.remove(key);
      throw e;
    } catch (IOException e) {
      HELD.remove(key);
      throw unusable("cannot lock data directory " + dir.toAbsolutePath() + " (" + LOCK_FILE + ")", e);
    }
  }

  /** The pid the holder wrote into the lock file; empty when it cannot be read. */
  private static String holder(FileChannel channel) {
    try {
      ByteBuffer bytes = ByteBuffer.allocate(32);
      channel.read(bytes, 0);
      return new String(bytes.array(), 0, bytes.position(), StandardCharsets.US_ASCII).trim();
    } catch (IOException e) {
      return "";
    }
  }

  /** The directory. */
  public Path path() {
    return dir;
  }

  /**
   * Where the plugin host keeps its private copies of the plugin jars ({@value #PLUGIN_COPIES}).
   * Only the holder of this lock uses it, so whatever is found there at start was left by a
   * server that no longer runs.
   */
  public Path pluginCopies() {
    return dir.resolve(PLUGIN_COPIES);
  }

  /** Releases the lock; another server may then use the directory. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      lock.release();
      channel.close();
    } catch (IOException e) {
      log.warn("Releasing the lock of data directory {} failed: {}", dir.toAbsolutePath(), e.toString());
    } finally {
      HELD.remove(key);
    }
  }

  /**
   * Why the data directory cannot be used, said for the operator (exit code 2, like any setting the
   * server cannot start with): permission denied and a full disk by name, anything else with the
   * system's own words.
   */
  private static ConfigException unusable(String what, IOException e) {
    String reason;
    if (e instanceof AccessDeniedException) {
      reason = "permission denied (the server's user must own it, or may write to its parent to create it)";
    } else if (e instanceof FileSystemException f && f.getReason() != null
        && f.getReason().contains("No space left on device")) {
      reason = "no space left on the device";
    } else if (e instanceof NotDirectoryException || e instanceof FileSystemException f
        && f.getReason() != null && f.getReason().contains("Not a directory")) {
      reason = "a part of the path is a file, not a directory";
    } else {
      reason = e.toString();
    }
    return new ConfigException(what + ": " + reason);
  }
}
