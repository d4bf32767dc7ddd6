package org.esmp.server.admin.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code esmp-admin plugins list}: each jar of the plugins directory and whether its plugin runs. */
@Command(name = "plugins", description = "Plugins: list.", subcommands = PluginsCommand.ListPlugins.class)
final class PluginsCommand implements Runnable {
  @ParentCommand EsmpAdmin root;
  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "plugins: which command?");
  }

  @Command(name = "list", description = "List the plugin jars: id, version, state (started, failed: see the server's "
      + "log, jar-removed: the storage, running until the server stops, other-storage: a storage other than the "
      + "configured one, not started), jar.")
  static final class ListPlugins implements Callable<Integer> {
    @ParentCommand PluginsCommand plugins;
    @Spec CommandSpec spec;
    @Option(names = "--json", description = "print one JSON object per jar")
    boolean json;

    @Override
    public Integer call() throws IOException {
      try (AdminClient client = plugins.root.connect()) {
        for (JsonNode plugin : client.call(AdminClient.request("plugins.list")).path("plugins")) {
          spec.commandLine().getOut().println(json ? plugin.toString() : String.format("%-20s %-16s %-12s %s%s",
              plugin.path("id").asText("-"), plugin.path("version").asText("-"), plugin.path("state").asText(),
              plugin.path("jar").asText(), plugin.path("storage").asBoolean() ? "  (storage)" : ""));
        }
        return 0;
      }
    }
  }
}
