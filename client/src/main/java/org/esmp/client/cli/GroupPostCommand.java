package org.esmp.client.cli;

import java.io.IOException;
import java.util.List;
import org.esmp.client.EsmpClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code esmp group post GROUP TEXT…}: prints {@code posted (#SEQ)}, or the ack with {@code --json}. */
@Command(name = "post", description = "Post TEXT to GROUP.")
final class GroupPostCommand extends GroupSubcommand {
  @Parameters(index = "0", paramLabel = "GROUP") String groupId;
  @Parameters(index = "1..*", arity = "1..*", paramLabel = "TEXT", description = "the text (words are joined with spaces)")
  List<String> text;

  @Override
  int run(EsmpClient client) throws IOException {
    printAck(client.post(groupId, String.join(" ", text)), "posted");
    return 0;
  }
}
