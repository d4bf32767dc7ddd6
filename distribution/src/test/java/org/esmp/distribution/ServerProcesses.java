package org.esmp.distribution;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;

/** What the distribution's tests do with the server processes they start. */
final class ServerProcesses {

  private ServerProcesses() {}

  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  /**
   * Connects to {@code port} once {@code server} listens there.
   *
   * @param output what the processes printed, appended to a failure's message
   */
  static Socket connectWhenListening(Process server, int port, Duration timeout, Supplier<String> output)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!server.isAlive()) {
        fail("server exited with " + server.exitValue() + " before listening" + output.get());
      }
      Socket socket = new Socket();
      try {
        socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
        return socket;
      } catch (IOException notYet) {
        socket.close();
        Thread.sleep(200);
      }
    }
    return fail("server not listening on " + port + " after " + timeout + output.get());
  }

  /** The files' contents, each under a header line, for failure messages. */
  static String contents(Path directory, List<String> files) {
    StringBuilder text = new StringBuilder();
    for (String file : files) {
      try {
        text.append("\n--- ").append(file).append(" ---\n").append(Files.readString(directory.resolve(file), UTF_8));
      } catch (IOException e) {
        text.append("\n--- ").append(file).append(": ").append(e.getMessage());
      }
    }
    return text.toString();
  }
}
