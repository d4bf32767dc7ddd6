package org.esmp.server.admin.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.esmp.server.data.DataDirectory;

/**
 * {@code esmp-admin}'s end of the administration channel ({@link org.esmp.server.admin.AdminChannel}):
 * one connection to {@code <data-dir>/admin.sock}, one JSON request line at a time, each answer
 * read whole. Used by one thread.
 */
final class AdminClient implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();
  /** The longest path of a Unix socket, in bytes, less its terminating NUL (Linux: 108; macOS: 104). */
  private static final int MAX_SOCKET_PATH = 103;

  private final SocketChannel channel;
  private final ByteBuffer in = ByteBuffer.allocate(1 << 16);

  private AdminClient(SocketChannel channel) {
    this.channel = channel;
    in.flip();
  }

  /**
   * Connects to the server running on {@code dataDir}.
   *
   * @throws AdminFailure saying, in one line, that no server runs there, or why it cannot be reached
   */
  static AdminClient connect(Path dataDir) {
    Path socket = dataDir.toAbsolutePath().resolve(DataDirectory.ADMIN_SOCKET);
    if (!Files.exists(socket) && socket.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length
        > MAX_SOCKET_PATH) {
      throw new AdminFailure("no administration socket at " + socket + ": the path is too long for a Unix socket, so "
          + "a server there runs without one (see its log); give the data directory a shorter path");
    }
    if (!Files.exists(socket)) {
      throw new AdminFailure("no server is running on data directory " + dataDir.toAbsolutePath() + " (no "
          + DataDirectory.ADMIN_SOCKET + " there; give the server's --data-dir or --config)");
    }
    SocketChannel channel = null;
    try {
      channel = SocketChannel.open(StandardProtocolFamily.UNIX);
      channel.connect(UnixDomainSocketAddress.of(socket));
      return new AdminClient(channel);
    } catch (ConnectException e) {
      closeQuietly(channel);
      throw new AdminFailure("no server is running on data directory " + dataDir.toAbsolutePath() + " ("
          + socket + " does not answer: left by a server that stopped uncleanly?)");
    } catch (AccessDeniedException e) {
      closeQuietly(channel);
      throw new AdminFailure("cannot connect to " + socket + ": permission denied (run esmp-admin as the server's user)");
    } catch (IOException | IllegalArgumentException e) {
      closeQuietly(channel);
      String reason = e.getMessage() != null && e.getMessage().contains("ermission")
          ? "permission denied (run esmp-admin as the server's user)" : e.toString();
      throw new AdminFailure("cannot connect to " + socket + ": " + reason);
    }
  }

  /**
   * Sends {@code request} and returns the answer's {@code result}.
   *
   * @throws AdminFailure with the server's message when it refused, or when the connection ended
   */
  JsonNode call(ObjectNode request) throws IOException {
    byte[] line = JSON.writeValueAsBytes(request);
    ByteBuffer out = ByteBuffer.allocate(line.length + 1).put(line).put((byte) '\n').flip();
    while (out.hasRemaining()) {
      channel.write(out);
    }
    JsonNode answer = JSON.readTree(readLine());
    if (answer == null || !answer.isObject()) {
      throw new AdminFailure("the server answered something that is not an answer: " + answer);
    }
    if (!answer.path("ok").asBoolean(false)) {
      throw new AdminFailure(answer.path("message").asText("refused (" + answer.path("error").asText("?") + ")"));
    }
    return answer.path("result");
  }

  /** A new request of {@code command}. */
  static ObjectNode request(String command) {
    return JSON.createObjectNode().put("command", command);
  }

  private byte[] readLine() throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    while (true) {
      while (in.hasRemaining()) {
        byte b = in.get();
        if (b == '\n') {
          return line.toByteArray();
        }
        line.write(b);
      }
      in.clear();
      int n = channel.read(in);
      in.flip();
      if (n < 0) {
        throw new AdminFailure("the server closed the administration connection without answering (is it stopping?)");
      }
    }
  }

  @Override
  public void close() {
    closeQuietly(channel);
  }

  private static void closeQuietly(SocketChannel channel) {
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException e) {
        // nothing more to do
      }
    }
  }
}
