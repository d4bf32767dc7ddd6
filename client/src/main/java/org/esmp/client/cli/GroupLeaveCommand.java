package org.esmp.client.cli;

import java.io.IOException;
import org.esmp.client.EsmpClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code esmp group leave GROUP}: prints {@code left GROUP (#SEQ)}, or the ack with {@code --json}. */
@Command(name = "leave", description = "Leave GROUP.")
final class GroupLeaveCommand extends GroupSubcommand {
  @Parameters(paramLabel = "GROUP") String groupId;

  @Override
  int run(EsmpClient client) throws IOException {
    printAck(client.leave(groupId), "left " + groupId);
    return 0;
  }
}
