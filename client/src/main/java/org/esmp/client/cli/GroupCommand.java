package org.esmp.client.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code esmp group COMMAND}: only names the group commands; on its own, a usage error. */
@Command(name = "group", description = "Groups: create, add, remove, leave, post, history, info.",
    subcommands = {GroupCreateCommand.class, GroupAddCommand.class, GroupRemoveCommand.class,
        GroupLeaveCommand.class, GroupPostCommand.class, GroupHistoryCommand.class,
        GroupInfoCommand.class})
final class GroupCommand implements Runnable {
  @ParentCommand EsmpCli root;
  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "group: which command?");
  }
}
