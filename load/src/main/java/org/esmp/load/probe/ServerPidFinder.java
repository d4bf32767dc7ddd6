package org.esmp.load.probe;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * Finds the process listening on a local TCP port the way {@code ss -p} does: the socket's inode
 * from {@code /proc/net/tcp} and {@code tcp6}, then the process holding a descriptor
 * {@code socket:[INODE]} under {@code /proc/*}/fd. Finds only processes this user may inspect.
 */
public final class ServerPidFinder {

  private final Path proc;

  public ServerPidFinder() {
    this(Path.of("/proc"));
  }

  ServerPidFinder(Path proc) {
    this.proc = proc;
  }

  /** The pid listening on {@code port}, if one can be seen. */
  public OptionalLong find(int port) {
    OptionalLong inode = OptionalLong.empty();
    for (String table : new String[] {"net/tcp6", "net/tcp"}) {
      try {
        inode = ProcFiles.listeningInode(Files.readString(proc.resolve(table)), port);
      } catch (IOException | RuntimeException e) {
        continue;
      }
      if (inode.isPresent()) {
        break;
      }
    }
    return inode.isPresent() ? holder("socket:[" + inode.getAsLong() + "]") : OptionalLong.empty();
  }

  private OptionalLong holder(String link) {
    try (DirectoryStream<Path> processes = Files.newDirectoryStream(proc, "[0-9]*")) {
      for (Path process : processes) {
        if (holds(process.resolve("fd"), link)) {
          return OptionalLong.of(Long.parseLong(process.getFileName().toString()));
        }
      }
    } catch (IOException | RuntimeException e) {
      // no /proc: no pid
    }
    return OptionalLong.empty();
  }

  private static boolean holds(Path fds, String link) {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(fds)) {
      for (Path fd : entries) {
        try {
          if (Files.readSymbolicLink(fd).toString().equals(link)) {
            return true;
          }
        } catch (IOException | RuntimeException closedMeanwhile) {
          // the descriptor went away while listing
        }
      }
    } catch (IOException | RuntimeException notOurs) {
      // another user's process, or gone
    }
    return false;
  }
}
