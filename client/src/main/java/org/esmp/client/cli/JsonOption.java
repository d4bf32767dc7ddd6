package org.esmp.client.cli;

import picocli.CommandLine.Option;

/** {@code --json}, for commands that print: one JSON object per line instead of text. */
final class JsonOption {
  @Option(names = "--json", description = "print one JSON object per line")
  boolean json;
}
