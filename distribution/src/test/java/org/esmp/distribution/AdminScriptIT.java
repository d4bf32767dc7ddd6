package org.esmp.distribution;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/esmp-admin} of the built distribution, as real processes beside a real {@code
 * bin/esmp-server}: it finds the server's data directory as the server does (the installation's
 * {@code data/} by default, here {@code data_dir} of the settings file both are given), adds a user, takes an online backup, restores it into a
 * new directory, and a second server started there has the user.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class AdminScriptIT {

  private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path work;
  private final Path home = Paths.get(System.getProperty("esmp.dist.dir"));
  private final List<Process> started = new ArrayList<>();
  private int runs;

  @AfterEach
  void stopEverything() throws InterruptedException {
    for (Process p : started) {
      if (p.isAlive()) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(20, TimeUnit.SECONDS);
      }
    }
  }

  /** What a command printed, and its exit code. */
  private record Result(int code, List<String> out, List<String> err) {}

  @Test
  void addsAUserTakesABackupAndRestoresItForASecondServer() throws Exception {
    // Without flags, the installation's data/, as the server's default.
    Result none = run("esmp-admin", "users", "list");
    assertEquals(1, none.code(), none.toString());
    assertEquals(List.of("esmp-admin: no server is running on data directory " + home.resolve("data").toAbsolutePath()
        + " (no admin.sock there; give the server's --data-dir or --config)"), none.err());

    // The server and esmp-admin given the same settings file find the same data directory.
    Files.writeString(work.resolve("esmp.yaml"), "data_dir: " + work.resolve("data") + "\n");
    int port = ServerProcesses.freePort();
    Process first = server(port, null);
    ServerProcesses.connectWhenListening(first, port, START_TIMEOUT, () -> output("server-" + port)).close();

    assertEquals(0, run("esmp", "--identity", "alice.json", "keygen", "alice#localhost").code());
    String key = JSON.readTree(work.resolve("alice.json").toFile()).path("public_key").asText();
    Result added = run("esmp-admin", "--config", "esmp.yaml", "users", "add", "alice#localhost", "--key", key);
    assertEquals(new Result(0, List.of("added alice#localhost"), List.of()), added);
    Result listed = run("esmp-admin", "--config", "esmp.yaml", "users", "list");
    assertEquals(0, listed.code(), listed.toString());
    assertEquals(1, listed.out().size(), listed.toString());
    assertTrue(listed.out().get(0).matches("alice#localhost +active +1 key"), listed.toString());

    Result backup = run("esmp-admin", "--config", "esmp.yaml", "backup", "backup");
    assertEquals(0, backup.code(), backup.toString());
    assertTrue(backup.out().get(0).startsWith("backup written to " + work.resolve("backup") + ": "), backup.toString());
    Result refused = run("esmp-admin", "restore", "backup", "--data-dir", "data");
    assertEquals(1, refused.code(), refused.toString());
    assertTrue(refused.err().get(0).contains("is not empty"), refused.toString());
    Result restored = run("esmp-admin", "restore", "backup", "--data-dir", "restored");
    assertEquals(0, restored.code(), restored.toString());

    int second = ServerProcesses.freePort();
    Process copy = server(second, work.resolve("restored"));
    ServerProcesses.connectWhenListening(copy, second, START_TIMEOUT, () -> output("server-" + second)).close();
    Result onCopy = run("esmp-admin", "--data-dir", "restored", "users", "list");
    assertEquals(listed.out(), onCopy.out(), onCopy.toString());
    assertEquals(0, run("esmp", "--server", "localhost:" + second, "--identity", "alice.json", "register").code(),
        "alice authenticates on the restored server with her key" + output("server-" + second));
  }

  private Process server(int port, Path dataDir) throws Exception {
    List<String> command = new ArrayList<>(List.of(home.resolve("bin/esmp-server").toString(),
        "--port", Integer.toString(port), "--bind", "127.0.0.1"));
    if (dataDir != null) {
      command.add("--data-dir");
      command.add(dataDir.toString());
    } else {
      command.add("--config");
      command.add(work.resolve("esmp.yaml").toString());
    }
    Process process = new ProcessBuilder(command).directory(work.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
        .redirectOutput(work.resolve("server-" + port + ".out").toFile())
        .redirectErrorStream(true)
        .start();
    started.add(process);
    return process;
  }

  /** Runs {@code bin/SCRIPT ARGS} in the working directory and waits for it. */
  private Result run(String script, String... args) throws Exception {
    String name = "run-" + ++runs;
    List<String> command = new ArrayList<>();
    command.add(home.resolve("bin").resolve(script).toString());
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).directory(work.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
        .redirectOutput(work.resolve(name + ".out").toFile())
        .redirectError(work.resolve(name + ".err").toFile())
        .start();
    started.add(process);
    assertTrue(process.waitFor(60, TimeUnit.SECONDS), String.join(" ", command) + " did not end");
    return new Result(process.exitValue(), lines(work.resolve(name + ".out")), lines(work.resolve(name + ".err")));
  }

  private static List<String> lines(Path file) throws Exception {
    return Files.readAllLines(file, UTF_8).stream().filter(line -> !line.isBlank()).toList();
  }

  private String output(String name) {
    return ServerProcesses.contents(work, List.of(name + ".out"));
  }
}
