package org.esmp.server.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.esmp.server.config.ConfigException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class DataDirectoryTest {

  @TempDir Path work;

  @BeforeEach
  void posixOnly() {
    assumeTrue(OwnerOnly.posix(work), "needs POSIX permissions");
  }

  private static String mode(Path path) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
  }

  @Test
  void createsAMissingDataDirectoryOwnerOnlyWithItsLockFile() throws Exception {
    Path dir = work.resolve("srv/esmp/data");
    try (DataDirectory data = DataDirectory.open(dir)) {
      assertEquals("rwx------", mode(dir));
      assertEquals("rw-------", mode(dir.resolve(DataDirectory.LOCK_FILE)));
      assertEquals(ProcessHandle.current().pid() + "\n", Files.readString(dir.resolve(DataDirectory.LOCK_FILE)));
      assertEquals(dir.resolve("plugin-copies"), data.pluginCopies());
      assertFalse(Files.exists(data.pluginCopies()), "the plugin host creates it");
    }
    // Parents are not the server's: created with the usual defaults, not restricted.
    assertTrue(Files.getPosixFilePermissions(work.resolve("srv/esmp")).size() > 3, mode(work.resolve("srv/esmp")));
  }

  @Test
  void refusesASecondHolderUntilTheFirstCloses() throws Exception {
    Path dir = work.resolve("data");
    DataDirectory first = DataDirectory.open(dir);
    DataDirectoryInUseException refused = assertThrows(DataDirectoryInUseException.class, () -> DataDirectory.open(dir));
    assertTrue(refused.getMessage().startsWith("data directory " + dir.toAbsolutePath() + " is in use by another server"),
        refused.getMessage());
    // Through another path to the same directory too.
    Path link = Files.createSymbolicLink(work.resolve("link"), dir);
    assertThrows(DataDirectoryInUseException.class, () -> DataDirectory.open(link));
    first.close();
    first.close();
    DataDirectory.open(dir).close();
  }

  @Test
  void warnsAboutAnExistingDirectoryOpenToOthersAndLeavesItAsItIs() throws Exception {
    Path dir = Files.createDirectory(work.resolve("shared"));
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-x---"));
    Logger logger = (Logger) LoggerFactory.getLogger(DataDirectory.class);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    try {
      DataDirectory.open(dir).close();
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
      DataDirectory.open(dir).close();
    } finally {
      logger.detachAppender(appender);
    }
    List<ILoggingEvent> warnings = appender.list.stream().filter(e -> e.getLevel() == Level.WARN).toList();
    assertEquals(1, warnings.size(), appender.list.toString());
    assertTrue(warnings.get(0).getFormattedMessage().contains("rwxr-x---"), warnings.get(0).getFormattedMessage());
    assertEquals("rwx------", mode(dir));
  }

  @Test
  void copiesIntoAFileReadableByTheOwnerOnly() throws Exception {
    Path source = Files.writeString(work.resolve("plugin.jar"), "bytes");
    Files.setPosixFilePermissions(source, PosixFilePermissions.fromString("rw-r--r--"));
    Path copy = work.resolve("copy.jar");
    OwnerOnly.copy(source, copy);
    assertEquals("bytes", Files.readString(copy));
    assertEquals("rw-------", mode(copy));
    assertThrows(java.nio.file.FileAlreadyExistsException.class, () -> OwnerOnly.copy(source, copy));
  }

  @Test
  void aFileWhereTheDirectoryShouldBeIsABadSettingThatSaysSo() throws Exception {
    Path file = Files.writeString(work.resolve("data"), "not a directory");
    ConfigException e = assertThrows(ConfigException.class, () -> DataDirectory.open(file));
    assertEquals("data directory " + file.toAbsolutePath() + " is not a directory (a file is there): "
        + "give --data-dir a directory, or a path that does not exist yet", e.getMessage());

    ConfigException under = assertThrows(ConfigException.class, () -> DataDirectory.open(file.resolve("below")));
    assertTrue(under.getMessage().startsWith("cannot create data directory " + file.resolve("below").toAbsolutePath()
        + ": "), under.getMessage());
  }
}
