package org.esmp.distribution;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.Socket;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.jar.JarFile;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Unpacks the built zip and runs {@code bin/esmp-server} from it as a real child process, the way an
 * operator would. Every wait is bounded, and every process started here is killed afterwards.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DistributionIT {

  private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(20);
  private static final int READ_TIMEOUT_MILLIS = 10_000;
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path unpacked;
  private static Path zip;
  private static String name;
  private static Map<String, Integer> modes;
  private static Path home;

  @TempDir Path work;
  private final List<Process> started = new ArrayList<>();

  @BeforeAll
  static void unzip() throws IOException {
    zip = Paths.get(System.getProperty("esmp.dist.zip"));
    name = System.getProperty("esmp.dist.name");
    assertTrue(Files.isRegularFile(zip), "no distribution zip at " + zip);
    modes = unixModes(zip);
    try (ZipFile file = new ZipFile(zip.toFile())) {
      for (ZipEntry entry : file.stream().toList()) {
        Path target = unpacked.resolve(entry.getName()).normalize();
        assertTrue(target.startsWith(unpacked), "entry escapes the archive: " + entry.getName());
        if (entry.isDirectory()) {
          Files.createDirectories(target);
          continue;
        }
        Files.createDirectories(target.getParent());
        try (InputStream in = file.getInputStream(entry)) {
          Files.copy(in, target);
        }
        // java.util.zip drops unix modes; restore them from the archive's own entries.
        Integer mode = modes.get(entry.getName());
        if (mode != null && mode != 0) {
          Files.setPosixFilePermissions(target, permissions(mode));
        }
      }
    }
    home = unpacked.resolve(name);
  }

  @AfterEach
  void killLeftovers() throws InterruptedException {
    for (Process process : started) {
      if (process.isAlive()) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        process.waitFor(EXIT_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void zipHoldsOneFolderWithTheDocumentedLayout() {
    for (String entry : modes.keySet()) {
      assertTrue(entry.startsWith(name + "/"), "entry outside the top folder: " + entry);
    }
    for (String required : List.of("bin/esmp-server", "bin/esmp", "conf/esmp.yaml", "conf/logback.xml",
        "plugins/", "plugins/README.txt", "README.md", "lib/", "systemd/esmp.service", "docs/OPERATIONS.md")) {
      assertTrue(modes.containsKey(name + "/" + required), "missing " + required);
    }
    assertTrue(modes.keySet().stream().anyMatch(e -> e.matches(".*/lib/esmp-server-[^/]+\\.jar")),
        "lib/ has no esmp-server jar");
    assertTrue(modes.keySet().stream().anyMatch(e -> e.matches(".*/lib/esmp-api-[^/]+\\.jar")),
        "lib/ has no esmp-api jar");
    assertEquals(0755, modes.get(name + "/bin/esmp-server") & 0777, "bin/esmp-server mode");
    assertEquals(0755, modes.get(name + "/bin/esmp") & 0777, "bin/esmp mode");
    assertTrue(modes.keySet().stream().anyMatch(e -> e.matches(".*/lib/esmp-client-[^/]+\\.jar")),
        "lib/ has no esmp-client jar");
    assertEquals(0644, modes.get(name + "/conf/esmp.yaml") & 0777, "conf/esmp.yaml mode");
  }

  /**
   * The storage plugin bundles MapDB shrunk to what it uses (ProGuard): 2.6 MB; 17 MB with all of
   * MapDB's libraries.
   */
  private static final long STORAGE_PLUGIN_MAX_BYTES = 4L * 1024 * 1024;

  @Test
  void carriesOneCopyOfEachJarAndALeanStoragePlugin() throws IOException {
    Map<String, List<String>> byArtifact = new TreeMap<>();
    try (Stream<Path> files = Files.walk(home)) {
      for (Path jar : files.filter(f -> f.getFileName().toString().endsWith(".jar")).toList()) {
        byArtifact.computeIfAbsent(artifact(jar.getFileName().toString()), a -> new ArrayList<>())
            .add(home.relativize(jar).toString());
      }
    }
    assertTrue(byArtifact.containsKey("esmp-server") && byArtifact.containsKey("esmp-client"), byArtifact.toString());
    assertEquals(Map.of(), byArtifact.entrySet().stream().filter(e -> e.getValue().size() > 1)
        .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)), "jars there more than once");

    // bin/esmp runs the client jar, whose manifest names its libraries: each must be that very file in lib/.
    Path client = home.resolve(byArtifact.get("esmp-client").get(0));
    try (JarFile jar = new JarFile(client.toFile())) {
      String classPath = jar.getManifest().getMainAttributes().getValue("Class-Path");
      assertNotNull(classPath, "no Class-Path in " + client);
      for (String entry : classPath.trim().split("\\s+")) {
        assertTrue(Files.isRegularFile(client.resolveSibling(entry)), "the client needs lib/" + entry + ", not there");
      }
    }

    Path storage = home.resolve(byArtifact.get("esmp-storage-mapdb").get(0));
    assertTrue(storage.startsWith(home.resolve("plugins")), storage.toString());
    assertTrue(Files.size(storage) < STORAGE_PLUGIN_MAX_BYTES, storage + ": " + Files.size(storage) + " bytes");
  }

  /** The artifact of a jar's file name: what comes before "-VERSION.jar", a version starting with a digit. */
  private static String artifact(String jarName) {
    Matcher matcher = Pattern.compile("(.+?)-\\d.*\\.jar").matcher(jarName);
    assertTrue(matcher.matches(), "no version in " + jarName);
    return matcher.group(1);
  }

  @Test
  void startsFromTheZipAndGreetsWithHello() throws Exception {
    int port = ServerProcesses.freePort();
    Path dataDir = work.resolve("data-dir");
    Process server = launch(launcher(), "--port", Integer.toString(port),
        "--data-dir", dataDir.toString());

    try (Socket socket = connectWhenListening(server, port)) {
      socket.setSoTimeout(READ_TIMEOUT_MILLIS);
      BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), UTF_8));
      String line = in.readLine();
      assertNotNull(line, "connection closed before hello" + output());
      JsonNode hello = JSON.readTree(line);
      assertEquals("hello", hello.path("type").asText(), line);
      assertEquals("esmp/1", hello.path("protocol").asText(), line);
      assertEquals("localhost", hello.path("domain").asText(), line);
      assertTrue(hello.path("domains").isArray(), line);
      assertTrue(hello.path("challenge").isTextual(), line);
      assertEquals(32, Base64.getDecoder().decode(hello.path("challenge").asText()).length, line);
      assertEquals(65536, hello.path("max_frame").asInt(), line);
    }
    assertTrue(Files.isDirectory(dataDir), "--data-dir was not used" + output());
    assertFalse(Files.exists(work.resolve("data")), "default ./data used despite --data-dir");
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dataDir)),
        "the data directory the server created is its user's alone");

    List<String> jvm = jvmArguments(server);
    assertTrue(jvm.contains("-Xmx512m"), "default heap: " + jvm);
    assertTrue(jvm.contains("-XX:MaxDirectMemorySize=256m"), "default direct memory: " + jvm);
    assertTrue(jvm.contains("-XX:+ExitOnOutOfMemoryError"), jvm.toString());

    // SIGTERM (Process.destroy) must stop the JVM itself: the script execs it.
    server.destroy();
    assertTrue(server.waitFor(EXIT_TIMEOUT.toSeconds(), TimeUnit.SECONDS),
        "server still running " + EXIT_TIMEOUT + " after SIGTERM" + output());
  }

  @Test
  void memoryLimitsComeFromTheEnvironmentAndJavaOptsComeLast() throws Exception {
    int port = ServerProcesses.freePort();
    Process server = launch(launcher(), Map.of("ESMP_HEAP", "300m", "ESMP_DIRECT_MEMORY", "100m",
        "JAVA_OPTS", "-Xmx320m -Dlogback.configurationFile=" + home.resolve("conf/logback.xml")),
        "--port", Integer.toString(port), "--data-dir", work.resolve("data").toString());
    connectWhenListening(server, port).close();

    List<String> jvm = jvmArguments(server);
    assertTrue(jvm.contains("-Xmx300m"), jvm.toString());
    assertTrue(jvm.contains("-XX:MaxDirectMemorySize=100m"), jvm.toString());
    assertFalse(jvm.contains("-Xmx512m") || jvm.contains("-XX:MaxDirectMemorySize=256m"), jvm.toString());
    assertTrue(jvm.contains("-XX:+ExitOnOutOfMemoryError"), jvm.toString());
    // The JVM takes the last of repeated options: JAVA_OPTS overrides what the script sets.
    assertTrue(jvm.indexOf("-Xmx320m") > jvm.indexOf("-Xmx300m"), jvm.toString());
    assertTrue(jvm.lastIndexOf("-Dlogback.configurationFile=" + home.resolve("conf/logback.xml"))
        > jvm.indexOf("-Dlogback.configurationFile=" + home.resolve("conf/logback.xml")), jvm.toString());
  }

  @Test
  void rejectsABadPortWithOneLineAndExitCode2() throws Exception {
    Process server = launch(launcher(), "--port", "notanumber");
    assertTrue(server.waitFor(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS),
        "still running with a bad port" + output());
    assertEquals(2, server.exitValue(), output());
    List<String> errors = Files.readAllLines(work.resolve("stderr.txt"), UTF_8).stream()
        .filter(l -> !l.isBlank()).toList();
    assertEquals(1, errors.size(), "expected one line on stderr" + output());
    assertFalse(errors.get(0).contains("Exception"), "stack trace on stderr" + output());
  }

  @Test
  void findsItsHomeThroughRelativeAndAbsoluteSymlinks() throws Exception {
    // work/a/esmp -> ../b/esmp -> HOME/bin/esmp-server
    Files.createDirectories(work.resolve("a"));
    Files.createDirectories(work.resolve("b"));
    Files.createSymbolicLink(work.resolve("b/esmp"), launcher());
    Path link = Files.createSymbolicLink(work.resolve("a/esmp"), Paths.get("../b/esmp"));

    Process version = launch(link, "--version");
    assertTrue(version.waitFor(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS),
        "--version did not exit" + output());
    assertEquals(0, version.exitValue(), output());
    assertFalse(Files.readString(work.resolve("stdout.txt"), UTF_8).isBlank(),
        "--version printed nothing" + output());
  }

  @Test
  void logsToTheConsoleAndToTheLogFileNeverAMessageBody() throws Exception {
    int port = ServerProcesses.freePort();
    Path logs = work.resolve("logs");
    Path data = work.resolve("data-dir");
    Process server = launch(launcher(), Map.of("ESMP_LOG_DIR", logs.toString()),
        "--bind", "127.0.0.1", "--port", Integer.toString(port), "--data-dir", data.toString());
    connectWhenListening(server, port).close();

    String body = "body-" + UUID.randomUUID();
    String address = "localhost:" + port;
    esmp("--server", address, "--identity", work.resolve("alice.json").toString(), "keygen", "alice#localhost");
    esmp("--server", address, "--identity", work.resolve("alice.json").toString(), "register");
    esmp("--server", address, "--identity", work.resolve("alice.json").toString(), "send", "--to", "alice#localhost", body);
    esmp("--server", address, "--identity", work.resolve("alice.json").toString(), "listen", "--count", "1", "--timeout", "30");
    assertTrue(Files.readString(work.resolve("esmp.out"), UTF_8).contains(body), "the message went through");
    awaitLog(logs, "ESMP server listening");
    stop(server);

    String file = logText(logs);
    String console = Files.readString(work.resolve("stdout.txt"), UTF_8);
    String startup = "ESMP server listening on 127.0.0.1:" + port + "; data " + data + "; domains localhost; "
        + "registration open; TLS off; metrics off; config " + home.resolve("conf/esmp.yaml") + "; ";
    assertTrue(file.contains(startup), "no startup line in the log:\n" + file);
    assertTrue(console.contains(startup), "no startup line on the console" + output());
    assertTrue(file.contains("ESMP server stopped"), file);
    assertFalse(file.contains(body), "a message body in the log file:\n" + file);
    assertFalse(console.contains(body), "a message body on the console" + output());
  }

  @Test
  void theLogLevelComesFromTheEnvironment() throws Exception {
    int port = ServerProcesses.freePort();
    Path logs = work.resolve("logs");
    // A data directory open to other users: one WARN line at start, before the plugins are loaded
    // (an INFO line each) and before the server listens.
    Path data = Files.createDirectory(work.resolve("data"), PosixFilePermissions.asFileAttribute(
        PosixFilePermissions.fromString("rwxr-xr-x")));
    Process server = launch(launcher(), Map.of("ESMP_LOG_DIR", logs.toString(), "ESMP_LOG_LEVEL", "WARN"),
        "--bind", "127.0.0.1", "--port", Integer.toString(port), "--data-dir", data.toString());
    connectWhenListening(server, port).close();
    List<String> jvm = jvmArguments(server);
    assertTrue(jvm.contains("-Desmp.log.level=WARN"), jvm.toString());
    stop(server);

    String file = logText(logs);
    assertTrue(file.contains(" WARN ") && file.contains("is accessible to other users"), "no WARN line:\n" + file);
    assertFalse(file.contains(" INFO "), "an INFO line at level WARN:\n" + file);
  }

  @Test
  void keepsItsDataAndLogsInTheInstallationDirectoryWhereverItStarts() throws Exception {
    int port = ServerProcesses.freePort();
    // Another test's server may have logged there: the line waited for below must be this server's.
    deleteTree(home.resolve("logs"));
    try {
      Process server = launch(launcher(), "--bind", "127.0.0.1", "--port", Integer.toString(port));
      connectWhenListening(server, port).close();
      // The line follows the bind: wait for it in the default log directory, HOME/logs.
      awaitLog(home.resolve("logs"), "ESMP server listening");
      stop(server);

      assertTrue(Files.isDirectory(home.resolve("data/storage-mapdb")), "no store in " + home.resolve("data") + output());
      assertFalse(Files.exists(work.resolve("data")), "data in the directory it was started from");
      assertTrue(logText(home.resolve("logs")).contains("; data " + home.resolve("data") + ";"),
          "the startup line names HOME/data" + output());
    } finally {
      deleteTree(home.resolve("data"));
      deleteTree(home.resolve("logs"));
    }
  }

  @Test
  void shipsASystemdUnitThatRestartsOnFailureAsAnUnprivilegedUser() throws IOException {
    Map<String, List<String>> unit = unitSettings(home.resolve("systemd/esmp.service"));
    assertEquals(List.of("/opt/esmp/bin/esmp-server --data-dir /var/lib/esmp"), unit.get("ExecStart"));
    assertEquals(List.of("esmp"), unit.get("User"));
    assertEquals(List.of("on-failure"), unit.get("Restart"));
    assertEquals(List.of("2"), unit.get("RestartPreventExitStatus"), "a bad setting is not restarted forever");
    assertEquals(List.of("143"), unit.get("SuccessExitStatus"), "the JVM's exit code after SIGTERM is a clean stop");
    assertEquals(List.of("65536"), unit.get("LimitNOFILE"));
    assertEquals(List.of("ESMP_LOG_DIR=/var/log/esmp"), unit.get("Environment"));
    assertEquals(List.of("esmp"), unit.get("StateDirectory"));
    assertEquals(List.of("esmp"), unit.get("LogsDirectory"));
    assertEquals(List.of(""), unit.get("CapabilityBoundingSet"), "no capability at all");
    for (String hardening : List.of("NoNewPrivileges", "ProtectHome", "PrivateTmp", "PrivateDevices",
        "ProtectKernelTunables", "ProtectKernelModules", "ProtectControlGroups", "RestrictSUIDSGID")) {
      assertEquals(List.of("yes"), unit.get(hardening), hardening);
    }
    assertEquals(List.of("strict"), unit.get("ProtectSystem"));
    assertEquals(0644, modes.get(name + "/systemd/esmp.service") & 0777, "unit mode");
  }

  @Test
  void theSystemdUnitPassesSystemdAnalyzeVerify() throws Exception {
    Path analyze = Stream.of(System.getenv("PATH").split(":")).map(d -> Path.of(d, "systemd-analyze"))
        .filter(Files::isExecutable).findFirst().orElse(null);
    assertNotNull(analyze, "systemd-analyze is not installed (.ci/run installs Debian's systemd where it is missing)");
    // The unit names /opt/esmp; verify checks that ExecStart is there, so point it at this copy.
    String text = Files.readString(home.resolve("systemd/esmp.service"), UTF_8)
        .replace("/opt/esmp/bin/esmp-server", launcher().toString());
    Path unit = Files.writeString(work.resolve("esmp.service"), text);
    Process verify = new ProcessBuilder(analyze.toString(), "verify", unit.toString())
        .redirectErrorStream(true).redirectOutput(work.resolve("verify.txt").toFile()).start();
    started.add(verify);
    assertTrue(verify.waitFor(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS), "systemd-analyze verify did not end");
    String said = Files.readString(work.resolve("verify.txt"), UTF_8);
    assertEquals(0, verify.exitValue(), said);
    assertFalse(said.contains("esmp.service"), "systemd-analyze has remarks on the unit:\n" + said);
  }

  /** Each key of a systemd unit file to its values, in order (a key may be repeated). */
  private static Map<String, List<String>> unitSettings(Path file) throws IOException {
    Map<String, List<String>> settings = new HashMap<>();
    for (String line : Files.readAllLines(file, UTF_8)) {
      String trimmed = line.strip();
      if (trimmed.isEmpty() || trimmed.startsWith("#") || trimmed.startsWith("[")) {
        continue;
      }
      int equals = trimmed.indexOf('=');
      assertTrue(equals > 0, "not key=value: " + line);
      settings.computeIfAbsent(trimmed.substring(0, equals), k -> new ArrayList<>()).add(trimmed.substring(equals + 1));
    }
    return settings;
  }

  /** Runs bin/esmp with {@code args} to its end, which must be exit code 0; its output in esmp.out. */
  private void esmp(String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(home.resolve("bin/esmp").toString());
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).directory(work.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
        .redirectOutput(work.resolve("esmp.out").toFile())
        .redirectError(work.resolve("esmp.err").toFile());
    builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
    builder.environment().remove("JAVA_OPTS");
    Process client = builder.start();
    started.add(client);
    assertTrue(client.waitFor(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS), "esmp " + args[args.length - 1] + " still running");
    assertEquals(0, client.exitValue(), "esmp " + String.join(" ", args)
        + ServerProcesses.contents(work, List.of("esmp.out", "esmp.err", "stdout.txt", "stderr.txt")));
  }

  /** Waits up to {@link #START_TIMEOUT} for the log in {@code dir} to hold {@code text}. */
  private void awaitLog(Path dir, String text) throws Exception {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (!logText(dir).contains(text)) {
      assertTrue(System.nanoTime() < deadline, "no '" + text + "' in " + dir + output());
      Thread.sleep(100);
    }
  }

  /**
   * The whole log in {@code dir}: the files rolled over (at midnight, or at the size limit), oldest
   * first, then {@code esmp.log}. A test running across midnight finds its lines in two files. While
   * logback compresses a rolled file in the background its lines are in a {@code .tmp} file.
   */
  private static String logText(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return "";
    }
    StringBuilder text = new StringBuilder();
    List<Path> rolled;
    try (Stream<Path> files = Files.list(dir)) {
      rolled = files.filter(f -> f.getFileName().toString().matches("esmp-.*\\.log\\.gz|esmp.*\\.log.*\\.tmp"))
          .sorted().toList();
    }
    for (Path file : rolled) {
      boolean compressed = file.getFileName().toString().endsWith(".gz");
      try (InputStream in = compressed ? new GZIPInputStream(Files.newInputStream(file)) : Files.newInputStream(file)) {
        text.append(new String(in.readAllBytes(), UTF_8));
      } catch (EOFException | NoSuchFileException beingCompressed) {
        // the next poll reads it whole
      }
    }
    Path current = dir.resolve("esmp.log");
    if (Files.exists(current)) {
      text.append(Files.readString(current, UTF_8));
    }
    return text.toString();
  }

  /** Stops the server with SIGTERM and waits for it to exit. */
  private void stop(Process server) throws InterruptedException {
    server.destroy();
    assertTrue(server.waitFor(EXIT_TIMEOUT.toSeconds(), TimeUnit.SECONDS),
        "server still running " + EXIT_TIMEOUT + " after SIGTERM" + output());
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }

  private Path launcher() {
    return home.resolve("bin/esmp-server");
  }

  /**
   * The command line of the JVM the launcher exec'd into, from {@code /proc} (Linux); once the
   * server listens, {@code server}'s pid is the JVM's.
   */
  private static List<String> jvmArguments(Process server) throws IOException {
    Path cmdline = Path.of("/proc", Long.toString(server.pid()), "cmdline");
    assumeTrue(Files.isReadable(cmdline), "needs /proc");
    String all = new String(Files.readAllBytes(cmdline), UTF_8);
    List<String> arguments = List.of(all.split("\0"));
    assertTrue(arguments.get(0).endsWith("java"), "the script execs java: " + arguments);
    return arguments;
  }

  private Process launch(Path script, String... args) throws IOException {
    return launch(script, Map.of(), args);
  }

  /**
   * Runs the launcher in {@code work}, with this JVM's Java, none of the launcher's variables but
   * {@code environment}, and output going to files there.
   */
  private Process launch(Path script, Map<String, String> environment, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(script.toString());
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command)
        .directory(work.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
        .redirectOutput(work.resolve("stdout.txt").toFile())
        .redirectError(work.resolve("stderr.txt").toFile());
    builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
    builder.environment().remove("JAVA_OPTS");
    builder.environment().remove("ESMP_HEAP");
    builder.environment().remove("ESMP_DIRECT_MEMORY");
    builder.environment().remove("ESMP_LOG_DIR");
    builder.environment().remove("ESMP_LOG_LEVEL");
    builder.environment().putAll(environment);
    Process process = builder.start();
    started.add(process);
    return process;
  }

  private Socket connectWhenListening(Process server, int port) throws Exception {
    return ServerProcesses.connectWhenListening(server, port, START_TIMEOUT, this::output);
  }

  private String output() {
    return ServerProcesses.contents(work, List.of("stdout.txt", "stderr.txt"));
  }

  /**
   * Entry name to unix mode, read from the zip's central directory (the high 16 bits of an
   * entry's external attributes), which java.util.zip does not expose.
   */
  private static Map<String, Integer> unixModes(Path zipFile) throws IOException {
    try (FileChannel channel = FileChannel.open(zipFile)) {
      MappedByteBuffer buf = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size());
      buf.order(ByteOrder.LITTLE_ENDIAN);
      int end = buf.limit() - 22;
      while (end >= 0 && buf.getInt(end) != 0x06054b50) {
        end--;
      }
      assertTrue(end >= 0, "no end of central directory in " + zipFile);
      int entries = Short.toUnsignedInt(buf.getShort(end + 10));
      int at = buf.getInt(end + 16);
      Map<String, Integer> modes = new HashMap<>();
      for (int i = 0; i < entries; i++) {
        assertEquals(0x02014b50, buf.getInt(at), "bad central directory header");
        int nameLength = Short.toUnsignedInt(buf.getShort(at + 28));
        int extraLength = Short.toUnsignedInt(buf.getShort(at + 30));
        int commentLength = Short.toUnsignedInt(buf.getShort(at + 32));
        int mode = buf.getInt(at + 38) >>> 16;
        byte[] entryName = new byte[nameLength];
        buf.get(at + 46, entryName);
        modes.put(new String(entryName, UTF_8), mode);
        at += 46 + nameLength + extraLength + commentLength;
      }
      return modes;
    }
  }

  private static Set<PosixFilePermission> permissions(int mode) {
    Set<PosixFilePermission> permissions = EnumSet.noneOf(PosixFilePermission.class);
    PosixFilePermission[] bits = PosixFilePermission.values(); // OWNER_READ .. OTHERS_EXECUTE
    for (int i = 0; i < bits.length; i++) {
      if ((mode & (0400 >> i)) != 0) {
        permissions.add(bits[i]);
      }
    }
    return permissions;
  }
}
