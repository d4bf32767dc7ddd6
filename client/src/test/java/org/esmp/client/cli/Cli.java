package org.esmp.client.cli;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.esmp.client.FakeServer;
import org.esmp.client.Identity;

/**
 * Runs {@code esmp} in process, as an operator's script would, with Alice's identity file and
 * {@code --server} pointing at a {@link FakeServer}: the exit code and everything printed.
 */
final class Cli implements AutoCloseable {

  /** What one command line did. */
  record Result(int code, String out, String err) {}

  final FakeServer server;
  final Path identity;

  private Cli(FakeServer server, Path identity) {
    this.server = server;
    this.identity = identity;
  }

  /** A fake server running {@code script}, and a new identity {@code alice#example.com} in {@code dir}. */
  static Cli against(FakeServer.Script script, Path dir) throws IOException {
    Path identity = dir.resolve("alice.json");
    Identity.create(identity, "alice#example.com");
    return new Cli(new FakeServer(script), identity);
  }

  /** {@code esmp --server (the fake) --identity (Alice's) args…}. */
  Result esmp(String... args) {
    List<String> all = new ArrayList<>(List.of("--server", "127.0.0.1:" + server.port(),
        "--identity", identity.toString()));
    all.addAll(List.of(args));
    return run(all.toArray(String[]::new));
  }

  /** {@code esmp args…}, nothing added. */
  static Result run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = EsmpCli.run(new PrintWriter(out, true, UTF_8), new PrintWriter(err, true, UTF_8), args);
    return new Result(code, out.toString(UTF_8), err.toString(UTF_8));
  }

  Identity alice() throws IOException {
    return Identity.load(identity);
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
