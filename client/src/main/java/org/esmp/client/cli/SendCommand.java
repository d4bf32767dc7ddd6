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
 * {@code esmp send --to ADDR [--cc ADDR] TEXT…}: one signed {@code text}; with
 * {@code --type TYPE --body JSON}, a message of any content type instead. Prints {@code sent to
 * A, B} (the recipients the server accepted) and, on stderr, one {@code esmp: not delivered to
 * ADDR: CODE} line per rejected one; with {@code --json}, the {@code ack}.
 */
@Command(name = "send", description = "Send a text message (or, with --type and --body, any content type).")
final class SendCommand extends ClientCommand {
  @ParentCommand EsmpCli root;
  @Mixin JsonOption json;
  @Option(names = "--to", paramLabel = "ADDR", description = "recipient (repeatable)")
  List<String> to = new ArrayList<>();
  @Option(names = "--cc", paramLabel = "ADDR", description = "copy to (repeatable)")
  List<String> cc = new ArrayList<>();
  @Option(names = "--type", paramLabel = "TYPE", defaultValue = "text",
      description = "content type, with --body: a plugin's, such as reaction (default: ${DEFAULT-VALUE})")
  String type;
  @Option(names = "--body", paramLabel = "JSON",
      description = "the body as a JSON object, instead of TEXT (for a --type other than text)")
  String body;
  @Parameters(paramLabel = "TEXT", arity = "0..*", description = "the text (words are joined with spaces)")
  List<String> text = new ArrayList<>();

  @Override
  EsmpCli root() {
    return root;
  }

  @Override
  public Integer call() throws IOException {
    if (to.isEmpty() && cc.isEmpty()) {
      throw new CommandLine.ParameterException(spec.commandLine(), "send needs --to or --cc");
    }
    if (body == null && text.isEmpty()) {
      throw new CommandLine.ParameterException(spec.commandLine(), "send needs TEXT, or --body JSON");
    }
    if (body != null && !text.isEmpty()) {
      throw new CommandLine.ParameterException(spec.commandLine(), "send takes TEXT or --body, not both");
    }
    if (body == null && !type.equals("text")) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--type " + type + " needs --body JSON");
    }
    if (body != null && !readsAsObject(body)) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "--body must be one JSON object, like {\"emoji\":\"👍\",\"target\":\"<message id>\"}");
    }
    checkAddresses(to);
    checkAddresses(cc);
    Identity me = root.loadIdentity();
    try (EsmpClient client = root.connect(me, false)) {
      EsmpClient.Ack ack = body != null
          ? client.sendContent(type, to, cc, body) : client.sendText(to, cc, String.join(" ", text));
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

  private static boolean readsAsObject(String json) {
    try {
      return JsonOut.read(json).isObject();
    } catch (IllegalArgumentException notJson) {
      return false;
    }
  }
}
