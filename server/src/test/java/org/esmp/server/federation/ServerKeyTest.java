package org.esmp.server.federation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import org.esmp.server.data.OwnerOnly;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server's own key, on disk in its data directory. */
class ServerKeyTest {

  @TempDir Path dir;

  @Test
  void isMadeOnceOwnerOnlyAndReadBackTheSame() throws IOException {
    ServerKey made = ServerKey.loadOrCreate(dir);
    Path file = dir.resolve(ServerKey.FILE);
    assertTrue(Files.isRegularFile(file));
    if (OwnerOnly.posix(file)) {
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    }
    assertEquals(32, Base64.getDecoder().decode(made.publicKeyBase64()).length);
    assertEquals(made.publicKeyBase64(), ServerKey.loadOrCreate(dir).publicKeyBase64(), "never made again");
    assertEquals(made.publicKeyBase64(), ServerKey.read(file).publicKeyBase64());
    assertFalse(Files.exists(dir.resolve(ServerKey.FILE + ".new")), "nothing left beside it");

    Path other = Files.createDirectory(dir.resolve("other"));
    assertNotEquals(made.publicKeyBase64(), ServerKey.loadOrCreate(other).publicKeyBase64(), "each its own");
  }

  @Test
  void aDamagedKeyIsRefusedNamingTheFileAndNeverReplaced() throws IOException {
    Path file = Files.writeString(dir.resolve(ServerKey.FILE), "not a key\n");
    IOException refused = assertThrows(IOException.class, () -> ServerKey.loadOrCreate(dir));
    assertTrue(refused.getMessage().startsWith(file + " is not a server key"), refused.getMessage());
    assertEquals("not a key\n", Files.readString(file), "left as it was, for the operator to restore");
  }
}
