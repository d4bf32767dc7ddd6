package org.esmp.client.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.List;
import org.esmp.client.Identity;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code esmp keygen ADDRESS}: a new key for ADDRESS in a new identity file; never overwrites
 * one. Needs no server. Prints {@code ADDRESS: new key KEY saved in FILE}, or with {@code --json}
 * {@code {"address","public_key","identity"}}.
 */
@Command(name = "keygen", description = "Create a new key for ADDRESS in the identity file (never overwrites one).")
final class KeygenCommand extends ClientCommand {
  @ParentCommand EsmpCli root;
  @Mixin JsonOption json;
  @Parameters(paramLabel = "ADDRESS", description = "your address, e.g. alice#example.com")
  String address;

  @Override
  EsmpCli root() {
    return root;
  }

  @Override
  public Integer call() throws IOException {
    checkAddresses(List.of(address));
    Identity me = Identity.create(root.identity, address);
    if (json.json) {
      ObjectNode o = JsonOut.object();
      o.put("address", me.address());
      o.put("public_key", me.key().publicKeyBase64());
      o.put("identity", root.identity.toString());
      printJson(o);
    } else {
      out().println(me.address() + ": new key " + me.key().publicKeyBase64() + " saved in "
          + root.identity);
    }
    return 0;
  }
}
