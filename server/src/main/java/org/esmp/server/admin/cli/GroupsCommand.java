package org.esmp.server.admin.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code esmp-admin groups COMMAND}: the groups of the running server, read-only. */
@Command(name = "groups", description = "Groups, read-only: list, info.",
    subcommands = {GroupsCommand.ListGroups.class, GroupsCommand.Info.class})
final class GroupsCommand implements Runnable {
  @ParentCommand EsmpAdmin root;
  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "groups: which command?");
  }

  /** {@code groups list}: every group, a line each, fetched a page at a time. */
  @Command(name = "list", description = "List the groups: id, number of members, thread entries (seq), name.")
  static final class ListGroups implements Callable<Integer> {
    @ParentCommand GroupsCommand groups;
    @Spec CommandSpec spec;
    @Option(names = "--json", description = "print one JSON object per group")
    boolean json;

    @Override
    public Integer call() throws IOException {
      try (AdminClient client = groups.root.connect()) {
        String after = "";
        while (true) {
          JsonNode page = client.call(AdminClient.request("groups.list").put("after", after));
          for (JsonNode group : page.path("groups")) {
            int members = group.path("members").size();
            spec.commandLine().getOut().println(json ? group.toString() : String.format("%-40s %5d %s  seq %d  %s",
                group.path("group_id").asText(), members, members == 1 ? "member " : "members",
                group.path("seq").asLong(), group.path("name").asText("")));
            after = group.path("group_id").asText();
          }
          if (!page.path("more").asBoolean()) {
            return 0;
          }
        }
      }
    }
  }

  /** {@code groups info GROUP_ID}: the group's state, a line per field. */
  @Command(name = "info", description = "Print GROUP_ID's name, policy, members, admins and thread entries (seq: posts "
      + "and membership events).")
  static final class Info implements Callable<Integer> {
    @ParentCommand GroupsCommand groups;
    @Spec CommandSpec spec;
    @Parameters(index = "0", paramLabel = "GROUP_ID") String groupId;
    @Option(names = "--json", description = "print the group as one JSON object")
    boolean json;

    @Override
    public Integer call() throws IOException {
      try (AdminClient client = groups.root.connect()) {
        JsonNode group = client.call(AdminClient.request("groups.info").put("group_id", groupId)).path("group");
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
          out.println(group);
          return 0;
        }
        out.println("group    " + group.path("group_id").asText());
        out.println("name     " + group.path("name").asText(""));
        out.println("policy   " + group.path("policy").asText());
        out.println("members  " + group.path("members").size() + ": " + String.join(", ", texts(group.path("members"))));
        out.println("admins   " + String.join(", ", texts(group.path("admins"))));
        out.println("seq      " + group.path("seq").asLong() + " (thread entries: posts and membership events)");
        return 0;
      }
    }

    private static List<String> texts(JsonNode array) {
      List<String> texts = new ArrayList<>();
      array.forEach(item -> texts.add(item.asText()));
      return texts;
    }
  }
}
