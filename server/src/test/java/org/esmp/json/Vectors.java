package org.esmp.json;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.FileSystemNotFoundException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Test vectors from the test classpath ({@code src/test/resources/vectors/...}). */
final class Vectors {

  private Vectors() {}

  /** The bytes of classpath resource {@code vectors/<path>}. */
  static byte[] bytes(String path) {
    try (InputStream in = Vectors.class.getClassLoader().getResourceAsStream("vectors/" + path)) {
      if (in == null) {
        throw new IllegalStateException("missing test resource vectors/" + path);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The file names in classpath directory {@code vectors/<dir>}, sorted. */
  static List<String> list(String dir) {
    URL url = Vectors.class.getClassLoader().getResource("vectors/" + dir);
    if (url == null) {
      throw new IllegalStateException("missing test resource directory vectors/" + dir);
    }
    try {
      URI uri = url.toURI();
      if ("jar".equals(uri.getScheme())) {
        try {
          FileSystems.getFileSystem(uri);
        } catch (FileSystemNotFoundException e) {
          FileSystems.newFileSystem(uri, Map.of());
        }
      }
      try (Stream<Path> files = Files.list(Path.of(uri))) {
        return files.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }
}
