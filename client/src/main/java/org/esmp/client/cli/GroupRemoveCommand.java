package org.esmp.client.cli;

import java.io.IOException;
import java.util.List;
import org.esmp.client.EsmpClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code esmp group remove GROUP ADDR}: prints {@code removed ADDR (#SEQ)}, or the ack with {@code --json}. */
@Command(name = "remove", description = "Remove ADDR from GROUP (admins).")
final class GroupRemoveCommand extends GroupSubcommand {
  @Parameters(index = "0", paramLabel = "GROUP") String groupId;
  @Parameters(index = "1", paramLabel = "ADDR") String member;

  @Override
  List<String> addresses() {
    return List.of(member);
  }

  @Override
  int run(EsmpClient client) throws IOException {
    printAck(client.removeMember(groupId, member), "removed " + member);
    return 0;
  }
}
