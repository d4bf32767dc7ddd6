package org.esmp.server.data;

import java.io.IOException;
import java.nio.file.Path;

/** The data directory is locked by another server (or {@code add-user}) that is running. */
public final class DataDirectoryInUseException extends IOException {
  private static final long serialVersionUID = 1L;

  DataDirectoryInUseException(Path dir, String holder) {
    super("data directory " + dir.toAbsolutePath() + " is in use by another server"
        + (holder.isEmpty() ? "" : " (pid " + holder + ")"));
  }
}
