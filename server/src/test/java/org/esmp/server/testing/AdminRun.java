package org.esmp.server.testing;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.esmp.server.admin.cli.EsmpAdmin;

/**
 * One {@code esmp-admin} command line, run in this JVM against the data directory of a real server
 * (through its real administration socket), with what it printed and its exit code.
 *
 * @param code the exit code
 * @param out what it printed on stdout
 * @param err what it printed on stderr
 */
public record AdminRun(int code, String out, String err) {

  /** Runs {@code esmp-admin ARGS --data-dir DATA}. */
  public static AdminRun on(Path data, String... args) {
    List<String> all = new ArrayList<>(Arrays.asList(args));
    all.add("--data-dir");
    all.add(data.toString());
    return run(all.toArray(String[]::new));
  }

  /** Runs {@code esmp-admin ARGS}. */
  public static AdminRun run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = EsmpAdmin.run(new PrintWriter(out), new PrintWriter(err), args);
    return new AdminRun(code, out.toString(), err.toString());
  }

  /** The lines printed on stdout. */
  public List<String> lines() {
    return out.isEmpty() ? List.of() : List.of(out.split("\\R"));
  }

  @Override
  public String toString() {
    return "exit " + code + ", out: " + out + " err: " + err;
  }
}
