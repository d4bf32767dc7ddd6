package org.esmp.client.cli;

import java.io.IOException;
import org.esmp.client.EsmpClient;
import picocli.CommandLine.Command;

/** {@code esmp group remove GROUP ADDR}: prints {@code removed ADDR (#SEQ)}, or the ack with {@code --json}. */
@Command(name = "remove", description = "Remove ADDR from GROUP (admins).")
final class GroupRemoveCommand extends GroupMemberCommand {

  @Override
  EsmpClient.Ack change(EsmpClient client) throws IOException {
    return client.removeMember(groupId, member);
  }

  @Override
  String done() {
    return "removed";
  }
}
