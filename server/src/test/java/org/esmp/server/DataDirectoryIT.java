package org.esmp.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.esmp.server.data.DataDirectory;
import org.esmp.server.testing.ChildServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Servers in child processes on one data directory: a server killed with SIGKILL leaves its plugin
 * copies behind, and the next start deletes them before loading its own; nothing goes to the
 * system's temporary directory; a second server on the directory is refused while one runs, and
 * its refusal touches nothing of the running one's; what the server creates there is owner-only.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DataDirectoryIT {

  @TempDir Path work;
  @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path logs;
  private final List<ChildServer> started = new ArrayList<>();

  @AfterEach
  void killLeftovers() throws InterruptedException {
    for (ChildServer server : started) {
      server.kill();
    }
  }

  @Test
  void sigkillLeavesNoCopiesPastTheNextStartAndASecondServerIsRefused() throws Exception {
    Path data = work.resolve("data");
    Path tmp = Files.createDirectory(work.resolve("tmp"));
    Path copies = data.resolve(DataDirectory.PLUGIN_COPIES);

    ChildServer first = start("first", data, tmp);
    int loaded = first.pluginsStarted();
    assertTrue(loaded >= 4, "the bundled plugins at least: " + loaded);
    Map<String, FileTime> killed = files(copies);
    assertEquals(loaded, killed.size(), "one copy per loaded plugin: " + killed.keySet());
    assertOwnerOnly(data, copies, killed.keySet());
    assertTrue(first.kill());
    assertEquals(killed, files(copies), "a killed server leaves its copies");
    Files.writeString(copies.resolve("0-older-leftover.jar"), "from a run long ago");
    FileTime newestKilled = killed.values().stream().max(FileTime::compareTo).orElseThrow();

    ChildServer second = start("second", data, tmp);
    Map<String, FileTime> running = files(copies);
    assertEquals(second.pluginsStarted(), running.size(), "only the running server's copies: " + running.keySet());
    running.forEach((name, time) -> assertTrue(time.compareTo(newestKilled) > 0,
        name + " was made by the second server, not left by the first"));
    assertOwnerOnly(data, copies, running.keySet());

    ChildServer third = start("third", data, tmp, false);
    assertTrue(third.process().waitFor(60, TimeUnit.SECONDS), "the third server did not give up" + third.log());
    assertEquals(1, third.process().exitValue(), third.log());
    assertTrue(third.log().contains("esmp-server: cannot start: data directory " + data.toAbsolutePath()
        + " is in use by another server (pid " + second.pid() + ")"), third.log());
    assertEquals(running, files(copies), "the refused server touched none of the running one's copies");
    assertTrue(second.process().isAlive());
    try (Socket still = connect(second.port())) {
      assertTrue(still.isConnected());
    }

    assertTrue(second.stop(), second.log());
    assertFalse(Files.exists(copies), "a clean stop deletes the copies" + second.log());

    try (Stream<Path> inTmp = Files.walk(tmp)) {
      List<Path> written = inTmp.filter(p -> !p.equals(tmp)).filter(p -> p.getFileName().toString().startsWith("esmp")
          || p.getFileName().toString().endsWith(".jar")).toList();
      assertEquals(List.of(), written, "plugin copies in the system's temporary directory");
    }
  }

  private static void assertOwnerOnly(Path data, Path copies, Iterable<String> names) throws IOException {
    if (!Files.getFileStore(data).supportsFileAttributeView("posix")) {
      return;
    }
    assertEquals("rwx------", mode(data), "the data directory the server created");
    assertEquals("rw-------", mode(data.resolve(DataDirectory.LOCK_FILE)), "the lock file");
    assertEquals("rwx------", mode(copies), "the copies' directory");
    for (String name : names) {
      assertEquals("rw-------", mode(copies.resolve(name)), name);
    }
  }

  private static String mode(Path path) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
  }

  /** The files of {@code dir} with their modification times, by name. */
  private static Map<String, FileTime> files(Path dir) throws IOException {
    Map<String, FileTime> files = new TreeMap<>();
    try (Stream<Path> list = Files.list(dir)) {
      for (Path file : list.toList()) {
        files.put(file.getFileName().toString(), Files.getLastModifiedTime(file));
      }
    }
    return files;
  }

  private ChildServer start(String name, Path data, Path tmp) throws Exception {
    return start(name, data, tmp, true);
  }

  /** Starts the server in a child JVM whose temporary directory is {@code tmp}. */
  private ChildServer start(String name, Path data, Path tmp, boolean waitUntilServing) throws Exception {
    ChildServer child = ChildServer.builder(data, logs.resolve(name + ".log"))
        .jvmArg("-Djava.io.tmpdir=" + tmp)
        .start();
    started.add(child);
    if (waitUntilServing) {
      child.port();
      child.pluginsStarted();
    }
    return child;
  }

  private static Socket connect(int port) throws IOException {
    Socket socket = new Socket();
    try {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      return socket;
    } catch (IOException e) {
      socket.close();
      throw e;
    }
  }
}
