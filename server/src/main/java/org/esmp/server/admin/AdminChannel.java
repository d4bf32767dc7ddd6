package org.esmp.server.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;
import org.esmp.server.admin.AdminException.Kind;
import org.esmp.server.data.DataDirectory;
import org.esmp.server.data.OwnerOnly;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The administration channel: a Unix domain socket, {@value DataDirectory#ADMIN_SOCKET} in the
 * data directory, through which {@code esmp-admin} talks to the running server. Never a TCP port:
 * nothing of it is reachable from the network, and the public port knows nothing of it.
 *
 * <p><b>Who may connect.</b> The socket file is made readable and writable by the server's user
 * only (0600) in a data directory that is its own (0700); and where the system says who is at the
 * other end ({@code SO_PEERCRED}, on Linux and macOS), a connection from any user but the server's
 * own and {@code root} is closed unanswered. Whoever can use it can read the data directory anyway.
 *
 * <p><b>Protocol.</b> One JSON object per line, UTF-8, each answered with one JSON line, in order,
 * on the same connection: see {@link AdminCommands}. A line over {@value #MAX_REQUEST} bytes is
 * answered {@code bad_request} and the connection closed.
 *
 * <p><b>Threads.</b> One thread accepts; each connection is served on a thread of its own, at most
 * {@value #MAX_CONNECTIONS} at once (one more is answered {@code unavailable} and closed): a
 * backup takes a thread for as long as it runs. None of them is a Netty event loop or a worker.
 *
 * <p>A socket left by a server that was killed is replaced at start (the data directory is this
 * server's, under its lock); the socket is removed on {@link #close}. A data directory whose path
 * is too long for a Unix socket (about 100 bytes) gets no channel: {@link #open} logs why and the
 * server runs without one.
 */
public final class AdminChannel implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(AdminChannel.class);

  /** Longest request line, in bytes. */
  static final int MAX_REQUEST = 64 * 1024;
  /** Connections served at once. */
  static final int MAX_CONNECTIONS = 4;

  private final Path socket;
  private final ServerSocketChannel server;
  private final AdminCommands commands;
  private final ObjectMapper json = new ObjectMapper();
  private final ExecutorService handlers;
  private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();
  private final Optional<String> owner;
  private final Thread acceptor;
  private volatile boolean closed;

  private AdminChannel(Path socket, ServerSocketChannel server, AdminCommands commands) {
    this.socket = socket;
    this.server = server;
    this.commands = commands;
    this.owner = Optional.ofNullable(System.getProperty("user.name"));
    AtomicInteger count = new AtomicInteger();
    this.handlers = new ThreadPoolExecutor(0, MAX_CONNECTIONS, 30, TimeUnit.SECONDS, new SynchronousQueue<>(), task -> {
      Thread thread = new Thread(task, "esmp-admin-" + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    });
    this.acceptor = new Thread(this::acceptLoop, "esmp-admin-accept");
    acceptor.setDaemon(true);
  }

  /**
   * Opens the channel in {@code dataDir} and starts serving it.
   *
   * @return empty, with one WARN line saying why, when the socket cannot be made (a path too long,
   *     a system without Unix domain sockets): the server serves without it
   */
  public static Optional<AdminChannel> open(Path dataDir, AdminCommands commands) {
    Path socket = dataDir.toAbsolutePath().resolve(DataDirectory.ADMIN_SOCKET);
    ServerSocketChannel server = null;
    try {
      Files.deleteIfExists(socket); // left by a killed server: this directory is ours now
      server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
      server.bind(UnixDomainSocketAddress.of(socket));
      if (OwnerOnly.posix(socket)) {
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
      }
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      closeQuietly(server);
      log.warn("No administration channel: cannot open the socket {} ({}); esmp-admin cannot reach this server",
          socket, e.getMessage());
      return Optional.empty();
    }
    AdminChannel channel = new AdminChannel(socket, server, commands);
    channel.acceptor.start();
    log.info("Administration channel (esmp-admin) on {}", socket);
    return Optional.of(channel);
  }

  /** The socket's path. */
  public Path socket() {
    return socket;
  }

  private void acceptLoop() {
    while (!closed) {
      SocketChannel connection;
      try {
        connection = server.accept();
      } catch (AsynchronousCloseException e) {
        return; // closed
      } catch (IOException e) {
        if (!closed) {
          log.warn("Administration channel: accept failed: {}", e.toString());
        }
        return;
      }
      if (!allowed(connection)) {
        closeQuietly(connection);
        continue;
      }
      open.add(connection);
      try {
        handlers.execute(() -> serve(connection));
      } catch (RejectedExecutionException e) {
        write(connection, commands.refusal(Kind.UNAVAILABLE, MAX_CONNECTIONS + " administration connections are "
            + "open, the most served at once; retry when one ends"));
        open.remove(connection);
        closeQuietly(connection);
      }
    }
  }

  /** Whether the peer is the server's own user or root, where the system says who it is. */
  private boolean allowed(SocketChannel connection) {
    if (owner.isEmpty() || !connection.supportedOptions().contains(ExtendedSocketOptions.SO_PEERCRED)) {
      return true; // the socket's permissions alone
    }
    try {
      UnixDomainPrincipal peer = connection.getOption(ExtendedSocketOptions.SO_PEERCRED);
      UserPrincipal user = peer.user();
      if (user.getName().equals(owner.get()) || user.getName().equals("root")) {
        return true;
      }
      log.warn("Administration channel: a connection from user {} refused (only {} and root may use it)",
          user.getName(), owner.get());
      return false;
    } catch (IOException | UnsupportedOperationException e) {
      log.warn("Administration channel: a connection refused, its user unknown ({})", e.toString());
      return false;
    }
  }

  /** Answers each request line of {@code connection} until it ends. */
  private void serve(SocketChannel connection) {
    try (connection) {
      ByteBuffer in = ByteBuffer.allocate(8192);
      ByteArrayOutputStream line = new ByteArrayOutputStream();
      while (!closed) {
        in.clear();
        if (connection.read(in) < 0) {
          return;
        }
        in.flip();
        while (in.hasRemaining()) {
          byte b = in.get();
          if (b != '\n') {
            line.write(b);
            if (line.size() > MAX_REQUEST) {
              write(connection, commands.refusal(Kind.BAD_REQUEST, "a request longer than " + MAX_REQUEST + " bytes"));
              return;
            }
            continue;
          }
          write(connection, answer(line.toByteArray()));
          line.reset();
        }
      }
    } catch (IOException e) {
      if (!closed) {
        log.debug("Administration connection ended: {}", e.toString());
      }
    } finally {
      open.remove(connection);
    }
  }

  private ObjectNode answer(byte[] line) {
    JsonNode request;
    try {
      request = json.readTree(line);
    } catch (JsonProcessingException e) {
      return commands.refusal(Kind.BAD_REQUEST, "a request is one JSON object per line");
    } catch (IOException e) {
      return commands.refusal(Kind.BAD_REQUEST, "unreadable request");
    }
    if (request == null || !request.isObject()) {
      return commands.refusal(Kind.BAD_REQUEST, "a request is one JSON object per line");
    }
    return commands.answer(request);
  }

  private void write(SocketChannel connection, ObjectNode answer) {
    try {
      byte[] bytes = json.writeValueAsBytes(answer);
      ByteBuffer out = ByteBuffer.allocate(bytes.length + 1).put(bytes).put((byte) '\n').flip();
      while (out.hasRemaining()) {
        connection.write(out);
      }
    } catch (IOException e) {
      log.debug("Administration connection: writing an answer failed: {}", e.toString());
    }
  }

  /** Stops accepting, closes the open connections and removes the socket. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    closeQuietly(server);
    open.forEach(AdminChannel::closeQuietly);
    handlers.shutdownNow();
    try {
      Files.deleteIfExists(socket);
    } catch (IOException e) {
      log.warn("Could not remove the administration socket {}: {}", socket, e.toString());
    }
  }

  private static void closeQuietly(java.nio.channels.Channel channel) {
    if (channel == null) {
      return;
    }
    try {
      channel.close();
    } catch (IOException e) {
      // closing: nothing more to do
    }
  }
}
