package org.esmp.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdentityTest {

  @TempDir Path dir;

  @Test
  void createsAnOwnerOnlyFileInAnOwnerOnlyDirectory() throws IOException {
    Path file = dir.resolve("home/.esmp/identity.json");
    Identity created = Identity.create(file, "alice#example.com");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    assertEquals("rwx------",
        PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())));

    Identity loaded = Identity.load(file);
    assertEquals("alice#example.com", loaded.address());
    assertEquals(created.key(), loaded.key());
    assertEquals(0, loaded.cursor());
  }

  @Test
  void refusesToOverwriteAnIdentity() throws IOException {
    Path file = dir.resolve("identity.json");
    Identity first = Identity.create(file, "alice#example.com");
    assertThrows(FileAlreadyExistsException.class, () -> Identity.create(file, "bob#example.com"));
    assertEquals(first.key(), Identity.load(file).key());
  }

  @Test
  void savesTheCursorAtomicallyAndKeepsTheFileOwnerOnly() throws IOException {
    Path file = dir.resolve("identity.json");
    Identity.create(file, "alice#example.com").saveCursor(7);
    Identity loaded = Identity.load(file);
    assertEquals(7, loaded.cursor());
    loaded.saveCursor(3); // never backwards
    assertEquals(7, Identity.load(file).cursor());
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    assertEquals(false, Files.exists(dir.resolve("identity.json.tmp")));
  }

  @Test
  void refusesAFileOthersCanRead() throws IOException {
    Path file = dir.resolve("identity.json");
    Identity.create(file, "alice#example.com");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    IOException e = assertThrows(IOException.class, () -> Identity.load(file));
    assertEquals(true, e.getMessage().contains("chmod 600"), e.getMessage());
  }

  @Test
  void refusesABadAddress() {
    assertThrows(IllegalArgumentException.class,
        () -> Identity.create(dir.resolve("x.json"), "Alice@example.com"));
  }

  @Test
  void aDamagedFileIsNamedInTheError() throws IOException {
    Path file = dir.resolve("identity.json");
    Identity.create(file, "alice#example.com");
    for (String damaged : new String[] {"{\"address\": \"alice#exa", "", "[1, 2]"}) {
      Files.writeString(file, damaged);
      IOException e = assertThrows(IOException.class, () -> Identity.load(file));
      assertEquals(true, e.getMessage().startsWith("identity file " + file + " is "), e.getMessage());
    }
  }
}
