package org.esmp.server.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The backup manifest on real files: described, written at once, read back, refused when damaged. */
class BackupManifestTest {

  @TempDir Path backup;

  @Test
  void describesEveryFileAndReadsBackWhatItWrote() throws Exception {
    Files.createDirectories(backup.resolve("storage-mapdb"));
    Files.writeString(backup.resolve("storage-mapdb/storage.db"), "store");
    Files.writeString(backup.resolve("server.key"), "");
    List<BackupManifest.FileEntry> files = BackupManifest.describe(backup);
    assertEquals(List.of(
        new BackupManifest.FileEntry("server.key", 0,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        new BackupManifest.FileEntry("storage-mapdb/storage.db", 5,
            "824d80d71985f082a26997a8db88b5d1dd45b777d73585d03d236303e21bde97")), files);

    BackupManifest written = new BackupManifest("1.0", Instant.parse("2026-11-30T12:00:00Z"), List.of("example.com"),
        "storage-mapdb", "1.0", files);
    written.writeTo(backup);
    assertFalse(Files.exists(backup.resolve("manifest.json.partial")), "written beside, then renamed over");
    assertEquals(written, BackupManifest.readFrom(backup));
    assertEquals(5, written.totalBytes());
  }

  @Test
  void refusesAMissingOrForeignManifest() throws Exception {
    BackupException missing = assertThrows(BackupException.class, () -> BackupManifest.readFrom(backup));
    assertTrue(missing.getMessage().contains("is not a complete backup: it has no manifest.json"), missing.getMessage());

    Files.writeString(backup.resolve("manifest.json"), "{\"format\":\"something/2\"}", StandardCharsets.UTF_8);
    BackupException foreign = assertThrows(BackupException.class, () -> BackupManifest.readFrom(backup));
    assertTrue(foreign.getMessage().contains("is not a manifest of format esmp-backup/1 (format: something/2)"),
        foreign.getMessage());

    Files.writeString(backup.resolve("manifest.json"), "{\"format\":\"esmp-backup/1\",\"files\":[{\"path\":\"x\"",
        StandardCharsets.UTF_8);
    assertTrue(assertThrows(BackupException.class, () -> BackupManifest.readFrom(backup)).getMessage()
        .contains("is damaged"));

    Files.writeString(backup.resolve("manifest.json"), "{\"format\":\"esmp-backup/1\",\"server_version\":\"1\","
        + "\"created_at\":\"2026-11-30T12:00:00Z\",\"storage\":{\"plugin\":\"s\",\"version\":\"1\"},"
        + "\"files\":[{\"path\":\"x\",\"bytes\":-1,\"sha256\":\"00\"}]}", StandardCharsets.UTF_8);
    assertTrue(assertThrows(BackupException.class, () -> BackupManifest.readFrom(backup)).getMessage()
        .contains("a file entry is"));
  }
}
