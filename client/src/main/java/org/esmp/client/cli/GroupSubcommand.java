package org.esmp.client.cli;

import java.io.IOException;
import java.util.List;
import org.esmp.client.EsmpClient;
import org.esmp.client.Identity;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParentCommand;

/**
 * Base of the {@code esmp group} commands: checks the addresses on the command line, connects
 * (without reconnecting), runs, closes; {@code --json} prints the answer instead of a line.
 */
abstract class GroupSubcommand extends ClientCommand {
  @ParentCommand GroupCommand group;
  @Mixin JsonOption json;

  @Override
  EsmpCli root() {
    return group.root;
  }

  @Override
  public Integer call() throws IOException {
    checkAddresses(addresses());
    Identity me = root().loadIdentity();
    try (EsmpClient client = root().connect(me, false)) {
      return run(client);
    }
  }

  /** The command itself, on a connected client; returns the exit code. */
  abstract int run(EsmpClient client) throws IOException;

  /** The addresses on this command line, checked before connecting. */
  List<String> addresses() {
    return List.of();
  }

  /** {@code human}, and {@code  (#SEQ)} for group traffic; with {@code --json}, the ack. */
  void printAck(EsmpClient.Ack ack, String human) {
    if (json.json) {
      printJson(ack.json());
    } else {
      out().println(human + (ack.seq() != null ? " (#" + ack.seq() + ")" : ""));
    }
  }
}
