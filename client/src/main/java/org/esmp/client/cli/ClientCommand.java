package org.esmp.client.cli;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import org.esmp.client.Addresses;
import org.esmp.client.Jcs;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * Base of the {@code esmp} commands: the output streams picocli was given, the global options
 * ({@link #root()}), and the checks and printing they share. {@link #call()} returns the exit
 * code; a usage error is a {@link CommandLine.ParameterException} (exit 2), any other exception
 * one {@code esmp: …} line (exit 1).
 */
abstract class ClientCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  /** The {@code esmp} command with the global options. */
  abstract EsmpCli root();

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  PrintWriter err() {
    return spec.commandLine().getErr();
  }

  /** Bad addresses are a usage error (exit 2), found before connecting. */
  void checkAddresses(List<String> addresses) {
    for (String a : addresses) {
      if (!Addresses.isValid(a)) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "not an ESMP address (local#domain, lowercase): " + a);
      }
    }
  }

  /** One line of compact JSON (RFC 8785 style, members in their order). */
  void printJson(JsonNode node) {
    printJson(new String(Jcs.compact(node), UTF_8));
  }

  /** One line of JSON as the client gives it. */
  void printJson(String json) {
    out().println(json);
    out().flush();
  }
}
