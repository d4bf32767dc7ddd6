package org.esmp.distribution;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The walkthrough of the top-level README, run for real: the built distribution's {@code
 * bin/esmp-server} on a free port, and Alice's and Bob's {@code bin/esmp} as separate processes,
 * each command line exactly as the README prints it (run by {@code sh}, with {@code --server}
 * added). Every command line and every output line checked here must appear in the README, so the
 * README cannot drift from what works.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class WalkthroughIT {

  private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(60);
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path work;
  private Path home;
  private String readme;
  private int port;
  private Process server;
  private final List<Process> started = new ArrayList<>();
  private int commands;

  /** The options the walkthrough's {@code esmp} lines get, beside {@code --server}: TLS's. */
  private String clientOptions = "";

  @BeforeEach
  void findTheDistribution() throws Exception {
    home = Paths.get(System.getProperty("esmp.dist.dir"));
    readme = Files.readString(Paths.get(System.getProperty("esmp.readme")), UTF_8);
    assertTrue(Files.isExecutable(home.resolve("bin/esmp")), "no bin/esmp in " + home);
    port = ServerProcesses.freePort();
  }

  /**
   * Starts the README's server line ({@code esmp-server ...}, from the PATH, as the walkthrough's
   * terminals have it) on a free port with its data in the test's directory.
   */
  private void startServer(String line) throws Exception {
    assertTrue(line.equals("esmp-server") || readme.contains(line), "README.md does not show: " + line);
    ProcessBuilder builder = new ProcessBuilder("sh", "-c",
        line + " --port " + port + " --data-dir " + work.resolve("data"))
        .directory(work.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
        .redirectOutput(work.resolve("server.out").toFile())
        .redirectErrorStream(true);
    environment(builder.environment());
    server = builder.start();
    started.add(server);
    waitUntilListening();
  }

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

  @Test
  void twoPeopleRegisterSendReceiveAndUseAGroup() throws Exception {
    startServer("esmp-server");
    walkthrough();
  }

  @Test
  void theSameOverTls() throws Exception {
    List<String> made = run("esmp-server tls-selfsigned --domain localhost --out tls");
    assertTrue(made.get(0).startsWith("wrote " + work.resolve("tls/localhost.crt")), made.toString());
    startServer("esmp-server --tls-cert tls/localhost.crt --tls-key tls/localhost.key");
    String tls = "--tls-ca tls/localhost.crt";
    assertInReadme("esmp " + tls + " --identity alice.json register");

    // Plaintext is refused, in the words the README shows.
    run("esmp --identity alice.json keygen alice#localhost");
    Process plain = start("esmp --identity alice.json register", "plaintext");
    assertTrue(plain.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS));
    assertEquals(1, plain.exitValue(), output("plaintext"));
    String refused = Files.readString(work.resolve("plaintext.err"), UTF_8).strip();
    assertEquals("esmp: cannot connect to localhost:" + port + ": localhost:" + port + " refused the connection: "
        + "forbidden: this server requires TLS: connect with TLS on the same port (esmp --tls)", refused);
    assertInReadme(refused.replace(Integer.toString(port), "5888"));
    Files.delete(work.resolve("alice.json"));

    clientOptions = tls + " ";
    walkthrough();
  }

  /** The walkthrough's command lines, as the README prints them, with {@link #clientOptions}. */
  private void walkthrough() throws Exception {
    // Alice, terminal 1
    List<String> keygen = run("esmp --identity alice.json keygen alice#localhost");
    assertEquals(List.of("alice#localhost: new key " + publicKey("alice.json")
        + " saved in alice.json"), keygen);
    assertOutput("esmp --identity alice.json register", "registered alice#localhost");
    assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
        Files.getPosixFilePermissions(work.resolve("alice.json"))));

    // Bob, terminal 2
    run("esmp --identity bob.json keygen bob#localhost");
    assertOutput("esmp --identity bob.json register", "registered bob#localhost");
    Process listen = start("esmp --identity bob.json listen --count 1 --timeout 60", "bob-listen");
    Thread.sleep(1500); // let Bob's listen connect and sync; it would catch up anyway

    // Alice sends; Bob's listen prints it and exits
    assertOutput("esmp --identity alice.json send --to bob#localhost 'Lunch at noon?'",
        "sent to bob#localhost");
    assertEquals(List.of("alice#localhost: Lunch at noon?"), finish(listen, "bob-listen"));
    assertInReadme("alice#localhost: Lunch at noon?");

    // Alice creates a group with Bob and posts
    String groupId = single(run("esmp --identity alice.json group create lunch --member bob#localhost"));
    assertTrue(groupId.matches("[0-9a-f-]{36}"), groupId);
    assertInReadme("G=$(esmp --identity alice.json group create lunch --member bob#localhost)");
    Map<String, String> g = Map.of("G", groupId);
    assertOutput(g, "esmp --identity alice.json group post \"$G\" 'Noon at the usual place'", "posted (#2)");

    // Bob catches up from his saved cursor, as JSON
    List<String> lines = run(g, "esmp --identity bob.json listen --count 2 --timeout 60 --json");
    assertEquals(2, lines.size(), lines.toString());
    JsonNode created = JSON.readTree(lines.get(0));
    JsonNode post = JSON.readTree(lines.get(1));
    assertEquals("deliver", created.path("type").asText());
    assertEquals(2, created.path("cursor").asLong(), "cursor 1 was handled by the first listen");
    assertEquals("alice#localhost", created.path("from").asText());
    assertEquals(64, created.path("id").asText().length());
    assertEquals("group_created", created.path("message").path("type").asText());
    assertEquals(groupId, created.path("group_id").asText());
    assertEquals(3, post.path("cursor").asLong());
    assertEquals("Noon at the usual place", post.path("message").path("body").path("text").asText());
    assertEquals(3, JSON.readTree(Files.readString(work.resolve("bob.json"))).path("cursor").asLong());

    assertOutput(g, "esmp --identity bob.json group post \"$G\" 'See you there'", "posted (#3)");
    assertOutput(g, "esmp --identity alice.json group history \"$G\"",
        "#1 alice#localhost created the group \"lunch\" with bob#localhost",
        "#2 alice#localhost: Noon at the usual place",
        "#3 bob#localhost: See you there");
    List<String> info = run(g, "esmp --identity bob.json group info \"$G\"");
    assertTrue(info.contains("members alice#localhost, bob#localhost"), info.toString());
    assertTrue(info.contains("admins  alice#localhost"), info.toString());
    assertOutput("esmp --identity bob.json lookup alice#localhost", publicKey("alice.json"));

    assertTrue(commands >= 12, "ran " + commands + " commands");
  }

  // ------------------------------------------------------------------ helpers

  /** Runs {@code line} and checks its stdout lines; each must also be printed in the README. */
  private void assertOutput(String line, String... expected) throws Exception {
    assertOutput(Map.of(), line, expected);
  }

  private void assertOutput(Map<String, String> env, String line, String... expected) throws Exception {
    List<String> out = run(env, line);
    assertEquals(List.of(expected), out, line);
    for (String e : expected) {
      if (!e.contains(" new key ") && !e.matches("[A-Za-z0-9+/=]{44}")) { // keys are random
        assertInReadme(e);
      }
    }
  }

  private List<String> run(String line) throws Exception {
    return run(Map.of(), line);
  }

  /** Runs one README command line to its end; it must exit 0. Returns its stdout lines. */
  private List<String> run(Map<String, String> env, String line) throws Exception {
    String name = "cmd" + (++commands);
    Process p = start(env, line, name);
    return finish(p, name);
  }

  private Process start(String line, String name) throws IOException {
    return start(Map.of(), line, name);
  }

  private Process start(Map<String, String> env, String line, String name) throws IOException {
    assertInReadme(line);
    assertTrue(line.startsWith("esmp ") || line.startsWith("esmp-server "), line);
    String withServer = line.startsWith("esmp-server ") ? line
        : "esmp --server localhost:" + port + " " + clientOptions + line.substring("esmp ".length());
    ProcessBuilder builder = new ProcessBuilder("sh", "-c", withServer)
        .directory(work.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
        .redirectOutput(work.resolve(name + ".out").toFile())
        .redirectError(work.resolve(name + ".err").toFile());
    environment(builder.environment());
    builder.environment().putAll(env);
    Process p = builder.start();
    started.add(p);
    return p;
  }

  private List<String> finish(Process p, String name) throws Exception {
    if (!p.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
      fail(name + " still running after " + COMMAND_TIMEOUT + output(name));
    }
    assertEquals(0, p.exitValue(), name + " failed" + output(name));
    return Files.readAllLines(work.resolve(name + ".out"), UTF_8);
  }

  private void assertInReadme(String text) {
    assertTrue(readme.contains(text), "README.md does not show: " + text);
  }

  private String publicKey(String identity) throws IOException {
    return JSON.readTree(work.resolve(identity).toFile()).path("public_key").asText();
  }

  private static String single(List<String> lines) {
    assertEquals(1, lines.size(), lines.toString());
    return lines.get(0);
  }

  private void environment(Map<String, String> env) {
    env.put("JAVA_HOME", System.getProperty("java.home"));
    env.put("PATH", home.resolve("bin") + ":" + System.getenv("PATH"));
    env.remove("JAVA_OPTS");
    env.remove("ESMP_LOG_LEVEL");
    // The server's log file goes with the test's files, not into the build's distribution folder.
    env.put("ESMP_LOG_DIR", work.resolve("logs").toString());
  }

  private String output(String name) {
    return ServerProcesses.contents(work, List.of(name + ".out", name + ".err", "server.out"));
  }

  private void waitUntilListening() throws Exception {
    ServerProcesses.connectWhenListening(server, port, START_TIMEOUT, () -> output("none")).close();
  }
}
