package org.esmp.client.cli;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.esmp.client.EsmpClient;
import org.esmp.client.Identity;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code esmp send --to ADDR [--cc ADDR] TEXT…}: one signed {@code text}. Prints {@code sent to
 * A, B} (the recipients the server accepted) and, on stderr, one {@code esmp: not delivered to
 * ADDR: CODE} line per rejected one; with {@code --json}, the {@code ack}.
 */
@Command(name = "send", description = "Send a text message.")
final class SendCommand extends ClientCommand {
  @ParentCommand EsmpCli root;
  @Mixin JsonOption json;
  @Option(names = "--to", paramLabel = "ADDR", description = "recipient (repeatable)")
  List<String> to = new ArrayList<>();
  @Option(names = "--cc", paramLabel = "ADDR", description = "copy to (repeatable)")
  List<String> cc = new ArrayList<>();
  @Parameters(paramLabel = "TEXT", arity = "1..*", description = "the text (words are joined with spaces)")
  List<String> text;

  @Override
  EsmpCli root() {
    return root;
  }

  @Override
  public Integer call() throws IOException {
    if (to.isEmpty() && cc.isEmpty()) {
      throw new CommandLine.ParameterException(spec.commandLine(), "send needs --to or --cc");
    }
    checkAddresses(to);
    checkAddresses(cc);
    Identity me = root.loadIdentity();
    try (EsmpClient client = root.connect(me, false)) {
      EsmpClient.Ack ack = client.sendText(to, cc, String.join(" ", text));
      if (json.json) {
        printJson(ack.json());
      } else {
        List<String> accepted = new ArrayList<>();
        for (String a : to) {
          if (!ack.rejected().containsKey(a) && !accepted.contains(a)) {
            accepted.add(a);
          }
        }
        for (String a : cc) {
          if (!ack.rejected().containsKey(a) && !accepted.contains(a)) {
            accepted.add(a);
          }
        }
        out().println("sent to " + String.join(", ", accepted));
        ack.rejected().forEach((a, why) -> err().println("esmp: not delivered to " + a + ": " + why));
      }
    }
    return 0;
  }
}
