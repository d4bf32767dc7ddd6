package org.esmp.load.probe;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.stream.Stream;

/**
 * The sum of the sizes of the regular files under a directory: the growth of a server's data
 * directory. Preallocated or sparse files make this a coarse measure; {@code write_bytes} of the
 * server process is the finer one.
 */
public final class DirectorySize {

  private DirectorySize() {}

  /** Bytes in the regular files under {@code dir} (files vanishing meanwhile are skipped). */
  public static long of(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.mapToLong(DirectorySize::size).sum();
    }
  }

  private static long size(Path file) {
    try {
      BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
      return attributes.isRegularFile() ? attributes.size() : 0;
    } catch (IOException gone) {
      return 0;
    }
  }
}
