package org.esmp.server.plugin;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * The plugin jars of a plugins directory: every regular file named {@code *.jar} whose name does
 * not start with a dot (so a jar can be copied in under a hidden name and renamed when complete).
 */
public final class PluginJars {

  private PluginJars() {}

  /**
   * What a jar looked like when listed: a change of any part is a new version of the jar.
   *
   * @param fileKey the file's identity (inode), when the file system has one: catches a jar
   *     replaced by a rename with the same size and time
   */
  public record Fingerprint(long size, long modifiedMillis, Object fileKey) {}

  /** The jars of {@code dir}, sorted by name; empty when the directory does not exist. */
  public static Map<Path, Fingerprint> list(Path dir) throws IOException {
    Map<Path, Fingerprint> jars = new TreeMap<>();
    if (!Files.isDirectory(dir)) {
      return jars;
    }
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.jar")) {
      for (Path file : files) {
        if (file.getFileName().toString().startsWith(".")) {
          continue;
        }
        try {
          BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
          if (attributes.isRegularFile()) {
            jars.put(file, new Fingerprint(
                attributes.size(), attributes.lastModifiedTime().toMillis(), attributes.fileKey()));
          }
        } catch (NoSuchFileException e) {
          // removed while listing: not there
        }
      }
    }
    return jars;
  }

  /** The {@code Plugin-Id} of {@code jar}'s manifest, if it has one and can be read. */
  public static Optional<String> pluginId(Path jar) {
    try (JarFile file = new JarFile(jar.toFile())) {
      Manifest manifest = file.getManifest();
      return manifest == null ? Optional.empty()
          : Optional.ofNullable(manifest.getMainAttributes().getValue("Plugin-Id")).map(String::strip);
    } catch (IOException e) {
      return Optional.empty(); // reported when it is loaded
    }
  }
}
