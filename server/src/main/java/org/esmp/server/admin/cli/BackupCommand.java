package org.esmp.server.admin.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code esmp-admin backup DIR}: an online backup of the running server into DIR (new or empty),
 * written by the server itself: DIR must be writable by the server's user.
 */
@Command(name = "backup", description = "Take an online backup of the running server into DIR, a new or empty "
    + "directory outside the data directory, written by the server's user. Messages go on meanwhile; the backup holds "
    + "every message acknowledged before it began.")
final class BackupCommand implements Callable<Integer> {
  @ParentCommand EsmpAdmin root;
  @Spec CommandSpec spec;
  @Parameters(index = "0", paramLabel = "DIR", description = "where to write it") Path directory;

  @Override
  public Integer call() throws IOException {
    Path target = directory.toAbsolutePath().normalize(); // the server's working directory may be another
    try (AdminClient client = root.connect()) {
      JsonNode result = client.call(AdminClient.request("backup").put("directory", target.toString()));
      spec.commandLine().getOut().println("backup written to " + result.path("directory").asText() + ": "
          + result.path("files").asLong() + " files, " + result.path("bytes").asLong() + " bytes, as of "
          + result.path("created_at").asText());
      return 0;
    }
  }
}
