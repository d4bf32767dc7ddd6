package org.esmp.client.cli;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.esmp.client.Delivery;
import org.esmp.client.EsmpClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code esmp group history GROUP [--limit N]}: auth, then the newest page of the thread printed
 * oldest first, one {@link Describe#historyEntry} per line (or the entry with {@code --json}).
 * An entry that does not verify fails the command.
 */
@Command(name = "history", description = "Print GROUP's thread, oldest first (members only).")
final class GroupHistoryCommand extends GroupSubcommand {
  @Parameters(paramLabel = "GROUP") String groupId;
  @Option(names = "--limit", paramLabel = "N", description = "the newest N entries (server default 50, at most 500)")
  Integer limit;

  @Override
  int run(EsmpClient client) throws IOException {
    client.auth();
    List<Delivery> entries = new ArrayList<>(client.history(groupId, null, limit).entries());
    Collections.reverse(entries);
    for (Delivery d : entries) {
      if (json.json) {
        printJson(d.frame());
      } else {
        out().println(Describe.historyEntry(d));
      }
    }
    return 0;
  }
}
