package org.esmp.client.cli;

import java.io.IOException;
import java.util.List;
import org.esmp.client.EsmpClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code esmp group add GROUP ADDR}: prints {@code added ADDR (#SEQ)}, or the ack with {@code --json}. */
@Command(name = "add", description = "Add ADDR to GROUP (admins; anyone can add themselves to an open group).")
final class GroupAddCommand extends GroupSubcommand {
  @Parameters(index = "0", paramLabel = "GROUP") String groupId;
  @Parameters(index = "1", paramLabel = "ADDR") String member;

  @Override
  List<String> addresses() {
    return List.of(member);
  }

  @Override
  int run(EsmpClient client) throws IOException {
    printAck(client.addMember(groupId, member), "added " + member);
    return 0;
  }
}
