package org.esmp.client.cli;

import java.io.IOException;
import java.util.List;
import org.esmp.client.EsmpClient;
import picocli.CommandLine.Parameters;

/**
 * Base of {@code esmp group add|remove GROUP ADDR}: one member changed; prints {@code VERB ADDR (#SEQ)},
 * or the ack with {@code --json}.
 */
abstract class GroupMemberCommand extends GroupSubcommand {
  @Parameters(index = "0", paramLabel = "GROUP") String groupId;
  @Parameters(index = "1", paramLabel = "ADDR") String member;

  @Override
  List<String> addresses() {
    return List.of(member);
  }

  @Override
  int run(EsmpClient client) throws IOException {
    printAck(change(client), done() + " " + member);
    return 0;
  }

  /** Sends the change of {@link #member} in {@link #groupId}. */
  abstract EsmpClient.Ack change(EsmpClient client) throws IOException;

  /** The past-tense verb the line starts with: {@code added}, {@code removed}. */
  abstract String done();
}
