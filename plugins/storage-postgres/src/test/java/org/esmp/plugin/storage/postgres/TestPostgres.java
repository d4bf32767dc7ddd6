package org.esmp.plugin.storage.postgres;

import io.zonky.test.db.postgres.embedded.DefaultPostgresBinaryResolver;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;

/**
 * A real PostgreSQL for tests, from the binaries zonky's artifact ships: extracted once per machine
 * into the temporary directory, then {@code initdb} and {@code postgres} run on a data directory of
 * their own, on a free port of 127.0.0.1, with {@code fsync} on. PostgreSQL refuses to run as root,
 * and CI runs as root: then both run as user and group 65534 (nobody) through util-linux's
 * {@code setpriv}, on a data directory that user owns; otherwise they run directly. One per test
 * class; {@link #createDatabase()} gives each test a fresh database.
 */
public final class TestPostgres implements AutoCloseable {

  private static final int NOBODY = 65534;
  private static final AtomicInteger databases = new AtomicInteger();

  private final Path home;
  private final Path data;
  private final Path bin;
  private final int port;
  private Process server;

  /** Settings of this server beyond the common ones, as {@code name=value}. */
  private final List<String> settings;

  /** A server whose data directory {@code home/data} is made empty (owned by nobody when root); not started. */
  private TestPostgres(Path home, Path bin, int port, List<String> settings) throws IOException {
    this.home = home;
    this.bin = bin;
    this.port = port;
    this.settings = List.copyOf(settings);
    this.data = home.resolve("data");
    Files.createDirectory(data, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    ownedByServer(data);
  }

  /**
   * A server on a fresh data directory ({@code initdb}), with {@code settings} ({@code name=value})
   * beyond the common ones; not started ({@link #restart} starts it).
   */
  static TestPostgres initialized(List<String> settings) throws Exception {
    TestPostgres postgres = new TestPostgres(newHome(), binaries(), freePort(), settings);
    postgres.run(postgres.command("initdb", "-D", postgres.data.toString(), "-U", "postgres", "-A", "trust", "-E",
        "UTF8", "--no-locale", "--no-sync"));
    return postgres;
  }

  /**
   * A server on a copy of this one's data directory (this one must be stopped: the copy is then
   * consistent), on a port of its own, with {@code settings}; not started.
   */
  TestPostgres copy(List<String> settings) throws Exception {
    if (server != null && server.isAlive()) {
      throw new IllegalStateException("copy a stopped server's data directory only");
    }
    TestPostgres copy = new TestPostgres(newHome(), bin, freePort(), settings);
    try (Stream<Path> files = Files.walk(data)) {
      for (Path file : (Iterable<Path>) files::iterator) {
        Path target = copy.data.resolve(data.relativize(file).toString());
        if (!file.equals(data)) {
          Files.copy(file, target, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
          ownedByServer(target);
        }
      }
    }
    return copy;
  }

  /** Writes {@code text} into the file {@code name} of the data directory, owned by the server's user. */
  void writeDataFile(String name, String text) throws IOException {
    Path file = data.resolve(name);
    Files.writeString(file, text);
    ownedByServer(file);
  }

  /** Starts the server process on the existing data directory (again, after {@link #stopServer}). */
  void startServer() throws IOException {
    List<String> all = new ArrayList<>(List.of("fsync=on", "synchronous_commit=on", "max_connections=200"));
    all.addAll(settings);
    server = new ProcessBuilder(command("postgres",
            List.of("-D", data.toString(), "-p", Integer.toString(port), "-h", "127.0.0.1", "-k", ""), all))
        .directory(home.toFile())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(home.resolve("postgres.log").toFile()))
        .start();
  }

  /** Stops the server process (fast shutdown), keeping its data: the database is down until {@link #restart}. */
  void stopServer() throws IOException, InterruptedException {
    run(command("pg_ctl", "stop", "-D", data.toString(), "-m", "fast", "-w"));
    server.waitFor(30, TimeUnit.SECONDS);
  }

  /** Starts the stopped server again; returns once it accepts connections. */
  void restart() throws Exception {
    startServer();
    awaitReady();
  }

  /** Starts a server; returns once it accepts connections. */
  public static TestPostgres start() throws Exception {
    TestPostgres postgres = initialized(List.of());
    postgres.restart();
    return postgres;
  }

  /** A new home directory for a server, which the server's user can reach. */
  private static Path newHome() throws IOException {
    Path home = Files.createTempDirectory("esmp-postgres-");
    // The server's user must reach its data directory.
    Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwxr-xr-x"));
    return home;
  }

  /**
   * Kills the server as a machine that loses power would: the postmaster is stopped (SIGSTOP, so
   * that it starts nothing more), then it and every process it started get SIGKILL at once. Returns
   * once the postmaster is gone; its connections are broken.
   */
  void kill() throws Exception {
    ProcessHandle postmaster = server.toHandle();
    runSignal("-STOP", List.of(postmaster));
    List<ProcessHandle> all = new ArrayList<>();
    all.add(postmaster);
    postmaster.descendants().forEach(all::add);
    runSignal("-KILL", all);
    if (!server.waitFor(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("PostgreSQL did not die of SIGKILL");
    }
  }

  /** Freezes the server, every process of it (SIGSTOP), as a machine that stops answering. */
  void pause() throws Exception {
    ProcessHandle postmaster = server.toHandle();
    runSignal("-STOP", List.of(postmaster)); // first, so that it starts nothing more meanwhile
    runSignal("-STOP", postmaster.descendants().toList());
  }

  /** Lets a server {@link #pause}d go on (SIGCONT). */
  void resume() throws Exception {
    ProcessHandle postmaster = server.toHandle();
    List<ProcessHandle> all = new ArrayList<>(postmaster.descendants().toList());
    all.add(postmaster);
    runSignal("-CONT", all);
  }

  private void runSignal(String signal, List<ProcessHandle> processes) throws IOException, InterruptedException {
    List<String> kill = new ArrayList<>(List.of("kill", signal));
    processes.forEach(p -> kill.add(Long.toString(p.pid())));
    // Some may be gone already (a backend that just ended): the others are signalled still.
    new ProcessBuilder(kill).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
        .waitFor(30, TimeUnit.SECONDS);
  }

  /** Promotes this standby to primary ({@code pg_ctl promote}); returns once it accepts writes. */
  void promote() throws IOException, InterruptedException {
    run(command("pg_ctl", "promote", "-D", data.toString(), "-w", "-t", "60"));
  }

  /** A JDBC URL of {@code database} on this server. */
  public String url(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + database + "?user=postgres";
  }

  public int port() {
    return port;
  }

  /** Creates an empty database and returns its name. */
  public String createDatabase() throws SQLException {
    String name = "test_" + databases.incrementAndGet();
    try (Connection connection = DriverManager.getConnection(url("postgres"));
        Statement statement = connection.createStatement()) {
      statement.execute("CREATE DATABASE " + name);
    }
    return name;
  }

  private void awaitReady() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try (Connection connection = DriverManager.getConnection(url("postgres"))) {
        return;
      } catch (SQLException e) {
        if (!server.isAlive() || System.nanoTime() > deadline) {
          throw new IllegalStateException("PostgreSQL did not start: " + log(), e);
        }
        Thread.sleep(50);
      }
    }
  }

  /** What the server has logged so far, for failure messages. */
  String log() {
    try {
      return Files.readString(home.resolve("postgres.log"));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  /** Stops the server (fast shutdown) and deletes its files. */
  @Override
  public void close() throws Exception {
    if (server != null && server.isAlive()) {
      stopServer();
      server.destroyForcibly();
    }
    try (Stream<Path> files = Files.walk(home)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  /** {@code program} of the binaries with {@code args}, as user nobody when this process is root. */
  private List<String> command(String program, String... args) {
    return command(program, List.of(args), List.of());
  }

  /** {@code program} with {@code args}, then each of {@code settings} as {@code -c setting}. */
  private List<String> command(String program, List<String> args, List<String> settings) {
    List<String> command = new ArrayList<>();
    if (isRoot()) {
      command.addAll(List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups", "--"));
    }
    command.add(bin.resolve(program).toString());
    command.addAll(args);
    settings.forEach(setting -> command.addAll(List.of("-c", setting)));
    return command;
  }

  /** Gives {@code path} to the server's user (nobody) when this process is root. */
  private static void ownedByServer(Path path) throws IOException {
    if (isRoot()) {
      Files.setAttribute(path, "unix:uid", NOBODY, LinkOption.NOFOLLOW_LINKS);
      Files.setAttribute(path, "unix:gid", NOBODY, LinkOption.NOFOLLOW_LINKS);
    }
  }

  private void run(List<String> command) throws IOException, InterruptedException {
    Path output = home.resolve("command.log");
    Process process = new ProcessBuilder(command).directory(home.toFile()).redirectErrorStream(true)
        .redirectOutput(output.toFile()).start();
    if (!process.waitFor(120, TimeUnit.SECONDS) || process.exitValue() != 0) {
      process.destroyForcibly();
      throw new IllegalStateException(command + " failed: " + Files.readString(output));
    }
  }

  private static boolean isRoot() {
    try {
      return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  /**
   * The {@code bin/} directory of zonky's binaries, extracted once into the temporary directory
   * (readable by every user), under a file lock so that test JVMs running at once extract once.
   */
  private static Path binaries() throws IOException {
    Path root = Path.of(System.getProperty("java.io.tmpdir"), "esmp-postgres-binaries-18.4.0");
    Files.createDirectories(root);
    Path ready = root.resolve(".ready");
    try (FileChannel lockFile = FileChannel.open(root.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock = lockFile.lock()) {
      if (!Files.exists(ready)) {
        try (InputStream txz = DefaultPostgresBinaryResolver.INSTANCE.getPgBinary("Linux", "x86_64")) {
          extract(txz, root);
        }
        Files.createFile(ready);
      }
    }
    return root.resolve("bin");
  }

  private static void extract(InputStream txz, Path root) throws IOException {
    Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
    try (TarArchiveInputStream tar = new TarArchiveInputStream(new XZCompressorInputStream(txz))) {
      TarArchiveEntry entry;
      while ((entry = tar.getNextEntry()) != null) {
        Path target = root.resolve(entry.getName()).normalize();
        if (!target.startsWith(root)) {
          throw new IOException("entry outside the archive's root: " + entry.getName());
        }
        Files.createDirectories(target.getParent());
        if (entry.isDirectory()) {
          Files.createDirectories(target);
          Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
        } else if (entry.isSymbolicLink()) {
          Files.deleteIfExists(target);
          Files.createSymbolicLink(target, Path.of(entry.getLinkName()));
        } else {
          Files.copy(tar, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
          boolean executable = (entry.getMode() & 0111) != 0;
          Files.setPosixFilePermissions(target, PosixFilePermissions.fromString(executable ? "rwxr-xr-x" : "rw-r--r--"));
        }
      }
    }
  }
}
