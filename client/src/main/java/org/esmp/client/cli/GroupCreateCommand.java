package org.esmp.client.cli;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.esmp.client.EsmpClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code esmp group create NAME [--member ADDR]… [--open]}: a new group, of which the identity is
 * the admin. Prints the new group's id (for {@code G=$(esmp group create …)}), or with {@code
 * --json} {@code {"group_id"}}.
 */
@Command(name = "create", description = "Create a group and print its id.")
final class GroupCreateCommand extends GroupSubcommand {
  @Parameters(paramLabel = "NAME") String name;
  @Option(names = "--member", paramLabel = "ADDR", description = "a first member (repeatable)")
  List<String> members = new ArrayList<>();
  @Option(names = "--open", description = "anyone may join (default: members are added by an admin)")
  boolean open;

  @Override
  List<String> addresses() {
    return members;
  }

  @Override
  int run(EsmpClient client) throws IOException {
    String id = client.createGroup(name, members, open);
    if (json.json) {
      printJson(JsonOut.object().put("group_id", id));
    } else {
      out().println(id);
    }
    return 0;
  }
}
