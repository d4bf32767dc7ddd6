package org.esmp.client.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.List;
import org.esmp.client.EsmpClient;
import org.esmp.client.Identity;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code esmp lookup ADDR}: the public keys of ADDR, one per line (oldest first), or with {@code
 * --json} {@code {"address","keys"}}. Exits 1 when the address does not exist.
 */
@Command(name = "lookup", description = "Print the public keys of ADDR.")
final class LookupCommand extends ClientCommand {
  @ParentCommand EsmpCli root;
  @Mixin JsonOption json;
  @Parameters(paramLabel = "ADDR")
  String address;

  @Override
  EsmpCli root() {
    return root;
  }

  @Override
  public Integer call() throws IOException {
    checkAddresses(List.of(address));
    Identity me = root.loadIdentity();
    try (EsmpClient client = root.connect(me, false)) {
      List<String> keys = client.lookup(address);
      if (json.json) {
        ObjectNode o = JsonOut.object();
        o.put("address", address);
        keys.forEach(o.putArray("keys")::add);
        printJson(o);
      } else {
        keys.forEach(out()::println);
      }
      if (keys.isEmpty()) {
        err().println("esmp: no such address: " + address);
        return 1;
      }
    }
    return 0;
  }
}
