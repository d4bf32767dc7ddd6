package org.esmp.client.cli;

import java.io.IOException;
import org.esmp.client.EsmpClient;
import picocli.CommandLine.Command;

/** {@code esmp group add GROUP ADDR}: prints {@code added ADDR (#SEQ)}, or the ack with {@code --json}. */
@Command(name = "add", description = "Add ADDR to GROUP (admins; anyone can add themselves to an open group).")
final class GroupAddCommand extends GroupMemberCommand {

  @Override
  EsmpClient.Ack change(EsmpClient client) throws IOException {
    return client.addMember(groupId, member);
  }

  @Override
  String done() {
    return "added";
  }
}
