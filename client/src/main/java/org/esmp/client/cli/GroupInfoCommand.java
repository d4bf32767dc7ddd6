package org.esmp.client.cli;

import java.io.IOException;
import org.esmp.client.EsmpClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code esmp group info GROUP}: auth, then six lines ({@code group}, {@code name}, {@code
 * policy}, {@code members}, {@code admins}, {@code seq}), or the answer with {@code --json}.
 */
@Command(name = "info", description = "Print GROUP's name, policy, members and admins (members only).")
final class GroupInfoCommand extends GroupSubcommand {
  @Parameters(paramLabel = "GROUP") String groupId;

  @Override
  int run(EsmpClient client) throws IOException {
    client.auth();
    EsmpClient.GroupInfo info = client.groupInfo(groupId);
    if (json.json) {
      printJson(info.json());
    } else {
      out().println("group   " + info.groupId());
      out().println("name    " + (info.name() == null ? "" : info.name()));
      out().println("policy  " + info.policy());
      out().println("members " + String.join(", ", info.members()));
      out().println("admins  " + String.join(", ", info.admins()));
      out().println("seq     " + info.seq());
    }
    return 0;
  }
}
