package org.esmp.server.admin.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code esmp-admin users COMMAND}: the addresses of the running server. */
@Command(name = "users", description = "Addresses: list, add (with a key), disable, enable, remove.",
    subcommands = {UsersCommand.ListUsers.class, UsersCommand.Add.class, UsersCommand.Disable.class,
        UsersCommand.Enable.class, UsersCommand.Remove.class})
final class UsersCommand implements Runnable {
  @ParentCommand EsmpAdmin root;
  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "users: which command?");
  }

  /** {@code users list}: every address, a line each, fetched a page at a time. */
  @Command(name = "list", description = "List the addresses with their state (active or disabled) and number of keys; "
      + "with --removed, the removed addresses instead.")
  static final class ListUsers implements Callable<Integer> {
    @ParentCommand UsersCommand users;
    @Spec CommandSpec spec;
    @Option(names = "--removed", description = "list the removed addresses, which cannot be registered again")
    boolean removed;
    @Option(names = "--json", description = "print one JSON object per address")
    boolean json;

    @Override
    public Integer call() throws IOException {
      try (AdminClient client = users.root.connect()) {
        if (removed) {
          for (JsonNode user : client.call(AdminClient.request("users.removed")).path("users")) {
            print(json ? user.toString() : user.path("address").asText() + "  removed "
                + Instant.ofEpochMilli(user.path("since").asLong()));
          }
          return 0;
        }
        String after = "";
        while (true) {
          JsonNode page = client.call(AdminClient.request("users.list").put("after", after));
          for (JsonNode user : page.path("users")) {
            print(json ? user.toString() : line(user));
            after = user.path("address").asText();
          }
          if (!page.path("more").asBoolean()) {
            return 0;
          }
        }
      }
    }

    private static String line(JsonNode user) {
      int keys = user.path("keys").size();
      String state = user.path("state").asText();
      return String.format("%-40s %-8s %d %s%s", user.path("address").asText(), state, keys, keys == 1 ? "key" : "keys",
          user.has("since") ? "  (" + state + " " + Instant.ofEpochMilli(user.path("since").asLong()) + ")" : "");
    }

    private void print(String line) {
      spec.commandLine().getOut().println(line);
    }
  }

  /** The commands that change one address, and print one line saying what changed. */
  abstract static class Change implements Callable<Integer> {
    @ParentCommand UsersCommand users;
    @Spec CommandSpec spec;
    @Parameters(index = "0", paramLabel = "ADDRESS", description = "local#domain, of a domain the server serves")
    String address;

    abstract ObjectNode request();

    @Override
    public Integer call() throws IOException {
      try (AdminClient client = users.root.connect()) {
        JsonNode result = client.call(request().put("address", address));
        spec.commandLine().getOut().println(result.path("summary").asText());
        return 0;
      }
    }
  }

  @Command(name = "add", description = "Add ADDRESS with the Ed25519 public key --key, or add the key to an existing "
      + "ADDRESS, as add-user does but on the running server (reserved names and registration: closed do not apply).")
  static final class Add extends Change {
    @Option(names = "--key", required = true, paramLabel = "B64PUBKEY",
        description = "the 32-byte public key, standard padded base64")
    String key;

    @Override
    ObjectNode request() {
      return AdminClient.request("users.add").put("key", key);
    }
  }

  @Command(name = "disable", description = "Refuse ADDRESS's auth and messages (forbidden) and close its connections; "
      + "its keys and mailbox are kept, and messages to it are still delivered.")
  static final class Disable extends Change {
    @Override
    ObjectNode request() {
      return AdminClient.request("users.disable");
    }
  }

  @Command(name = "enable", description = "Undo disable: ADDRESS may auth and send again.")
  static final class Enable extends Change {
    @Override
    ObjectNode request() {
      return AdminClient.request("users.enable");
    }
  }

  @Command(name = "remove", description = "Unbind every key of ADDRESS and close its connections; the address is "
      + "kept reserved (never registered again), its mailbox is left to retention, unreadable.")
  static final class Remove extends Change {
    @Override
    ObjectNode request() {
      return AdminClient.request("users.remove");
    }
  }
}
