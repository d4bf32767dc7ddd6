package org.esmp.client.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import org.esmp.client.EsmpClient;
import org.esmp.client.Identity;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParentCommand;

/**
 * {@code esmp register}: an {@code auth}, which registers the identity's address on a server with
 * open registration. Prints {@code registered ADDRESS} or {@code ADDRESS is already registered
 * with this key}, or with {@code --json} {@code {"address","registered"}}.
 */
@Command(name = "register", description = "Register the identity's address with its key (on a server with open registration), or check that it is registered.")
final class RegisterCommand extends ClientCommand {
  @ParentCommand EsmpCli root;
  @Mixin JsonOption json;

  @Override
  EsmpCli root() {
    return root;
  }

  @Override
  public Integer call() throws IOException {
    Identity me = root.loadIdentity();
    try (EsmpClient client = root.connect(me, false)) {
      boolean registered = client.auth();
      if (json.json) {
        ObjectNode o = JsonOut.object();
        o.put("address", me.address());
        o.put("registered", registered);
        printJson(o);
      } else {
        out().println(registered ? "registered " + me.address()
            : me.address() + " is already registered with this key");
      }
    }
    return 0;
  }
}
