package org.esmp.client.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help;
import picocli.CommandLine.Parameters;

/**
 * {@code esmp help [COMMAND…]}: the usage of {@code esmp}, or of the command the words name, at any
 * depth ({@code esmp help group create}). Picocli's own help command stops at the first word.
 */
@Command(name = "help", helpCommand = true,
    description = "Show the help of a command, at any depth: esmp help group create.")
final class HelpCommand implements CommandLine.IHelpCommandInitializable2, Runnable {

  @Parameters(paramLabel = "COMMAND", arity = "0..*", description = "the command, with its subcommands")
  List<String> words = new ArrayList<>();

  private CommandLine self;

  @Override
  public void init(CommandLine helpCommandLine, Help.ColorScheme colorScheme, PrintWriter out, PrintWriter err) {
    this.self = helpCommandLine;
  }

  @Override
  public void run() {
    CommandLine target = self.getParent();
    for (String word : words) {
      CommandLine next = target.getSubcommands().get(word);
      if (next == null) {
        throw new CommandLine.ParameterException(self, "no command '" + String.join(" ", words)
            + "' (see esmp --help)");
      }
      target = next;
    }
    target.usage(self.getOut());
  }
}
