package org.esmp.server.admin.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.esmp.server.backup.BackupManifest;
import org.esmp.server.backup.Restore;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code esmp-admin restore BACKUP_DIR --data-dir NEW_DIR}: offline, no server involved; refuses a
 * partial or damaged backup, and a NEW_DIR that is not new or empty (a running server's is not).
 */
@Command(name = "restore", description = "Restore the backup in BACKUP_DIR into --data-dir NEW_DIR, a new or empty "
    + "directory (never a data directory in use), after checking every file of the backup; then start a server with "
    + "--data-dir NEW_DIR.")
final class RestoreCommand implements Callable<Integer> {
  @ParentCommand EsmpAdmin root;
  @Spec CommandSpec spec;
  @Parameters(index = "0", paramLabel = "BACKUP_DIR", description = "a directory esmp-admin backup wrote") Path backup;

  @Override
  public Integer call() throws IOException {
    if (root.dataDir == null) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "restore needs --data-dir NEW_DIR, the new data directory to restore into");
    }
    Path target = root.dataDir;
    BackupManifest manifest = Restore.restore(backup, target);
    spec.commandLine().getOut().println("restored the backup of " + manifest.createdAt() + " (server "
        + manifest.serverVersion() + ", " + manifest.storagePlugin() + " " + manifest.storageVersion() + ") into "
        + target.toAbsolutePath() + ": " + manifest.files().size() + " files, " + manifest.totalBytes()
        + " bytes; start the server with --data-dir " + target);
    return 0;
  }
}
