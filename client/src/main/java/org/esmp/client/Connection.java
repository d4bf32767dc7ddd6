package org.esmp.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One TCP connection to an ESMP/1 server: it reads the server's {@code hello}, writes signed
 * messages, matches the answers to them and hands {@code deliver} frames on. It is never reopened;
 * {@link EsmpClient} opens another one to reconnect.
 *
 * <p><b>Threads.</b> {@link #write} may be called from any thread and does not wait for the
 * answer. Writers take turns, so the order of pending answers is the order frames were written,
 * which is the order the server answers them (ESMP-1 §3); an answer is matched by its {@code re}.
 * One daemon reader thread reads every frame, completes the answers and calls the {@link Events},
 * so an {@code Events} method must not wait for an answer of this connection. Once the connection
 * ends (closed here, by the server, or on a broken frame) every pending answer fails with {@link
 * ConnectionClosedException} and {@link Events#ended} is called once, on the reader thread.
 */
final class Connection {

  /** A frame longer than this is a broken server: history answers stop early at 4 MiB. */
  private static final int MAX_INCOMING_FRAME = 32 << 20;

  /** What the owner of a connection hears from its reader thread. */
  interface Events {

    /** A {@code deliver} frame, as received (unchecked). */
    void delivered(Connection from, ObjectNode frame);

    /**
     * The connection ended and its pending answers have failed; {@code cause} is null when the
     * server closed it cleanly.
     */
    void ended(Connection which, Throwable cause);
  }

  private final String host;
  private final String server; // host:port
  private final Socket socket;
  /** The TLS channel binding auth must carry, base64; null on plaintext. */
  private final String tlsBinding;
  private final InputStream in;
  private final OutputStream out;
  private final ObjectNode hello;
  private final int maxFrame;
  private final Events events;
  private final ArrayDeque<Pending> pending = new ArrayDeque<>(); // guarded by itself
  private final Object writing = new Object();
  private final Thread reader;
  private volatile boolean dead;

  private record Pending(String id, CompletableFuture<ObjectNode> answer) {}

  private Connection(String host, int port, Socket socket, String tlsBinding, Events events) throws IOException {
    this.host = host;
    this.server = host + ":" + port;
    this.socket = socket;
    this.tlsBinding = tlsBinding;
    this.events = events;
    this.in = new BufferedInputStream(socket.getInputStream(), 1 << 16);
    this.out = socket.getOutputStream();
    byte[] line = readLine();
    if (line == null) {
      throw new IOException(server + " closed the connection before hello");
    }
    JsonNode first = Frames.JSON.readTree(line);
    if ("error".equals(first.path("type").asText())) {
      throw new IOException(server + " refused the connection: " + first.path("code").asText() + ": "
          + first.path("message").asText());
    }
    if (!"hello".equals(first.path("type").asText())) {
      throw new IOException(server + " is not an ESMP server: " + first);
    }
    if (!"esmp/1".equals(first.path("protocol").asText())) {
      throw new IOException(server + " speaks " + first.path("protocol") + ", not esmp/1");
    }
    this.hello = (ObjectNode) first;
    this.maxFrame = hello.path("max_frame").asInt(65536);
    this.reader = new Thread(this::readLoop, "esmp-reader-" + server);
    reader.setDaemon(true);
  }

  /**
   * Connects, with TLS unless {@code tls} is null, reads the {@code hello} (waiting at most {@code
   * helloTimeout} for it, the TLS handshake included) and starts the reader thread. After the
   * {@code hello}, reads wait without a limit: the server pings idle connections.
   */
  static Connection open(String host, int port, Tls tls, Duration connectTimeout, Duration helloTimeout,
      Events events) throws IOException {
    Socket socket = new Socket();
    try {
      socket.setTcpNoDelay(true);
      socket.connect(new InetSocketAddress(host, port), (int) connectTimeout.toMillis());
      socket.setSoTimeout((int) helloTimeout.toMillis());
      String binding = null;
      if (tls != null) {
        Tls.Secured secured = tls.secure(socket, host, port);
        socket = secured.socket();
        binding = secured.binding();
      }
      Connection c = new Connection(host, port, socket, binding, events);
      socket.setSoTimeout(0);
      c.reader.start();
      return c;
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  /** The server's {@code hello} frame. */
  ObjectNode hello() {
    return hello;
  }

  /** The connection's TLS channel binding (base64), for {@code auth}; null on plaintext. */
  String tlsBinding() {
    return tlsBinding;
  }

  /** Whether the connection has not ended yet. */
  boolean isOpen() {
    return !dead;
  }

  /**
   * Writes one frame, the compact JSON of a signed message whose id is {@code id}.
   *
   * @return its answer: completes with the answer frame, or exceptionally with {@link
   *     ServerException} for an {@code error}, {@link ConnectionClosedException} if the connection
   *     ends first
   * @throws IOException if the frame is over the server's {@code max_frame} (nothing is written),
   *     or the connection is closed or breaks while writing ({@link ConnectionClosedException})
   */
  CompletableFuture<ObjectNode> write(String id, byte[] frame) throws IOException {
    if (frame.length > maxFrame) {
      throw new IOException("message of " + frame.length + " bytes is over the server's " + maxFrame);
    }
    CompletableFuture<ObjectNode> answer = new CompletableFuture<>();
    // The reader never needs the writing lock, only the short one on pending: a write blocked
    // because the server stopped reading (it does while this connection's answers are unread)
    // cannot keep the reader from taking those answers.
    synchronized (writing) {
      synchronized (pending) {
        if (dead) {
          throw new ConnectionClosedException("connection to " + server + " is closed", null);
        }
        pending.add(new Pending(id, answer));
      }
      try {
        out.write(frame);
        out.write('\n');
        out.flush();
      } catch (IOException e) {
        close();
        throw new ConnectionClosedException("connection to " + server + " lost", e);
      }
    }
    return answer;
  }

  /** Closes the socket; the reader thread then fails what is pending and reports the end. */
  void close() {
    dead = true;
    try {
      socket.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }

  /**
   * Waits at most {@code timeout} for the reader thread to finish (an {@link Events} call in
   * progress included); returns at once when called on the reader thread itself.
   */
  void awaitReader(Duration timeout) throws InterruptedException {
    if (Thread.currentThread() != reader) {
      reader.join(timeout.toMillis());
    }
  }

  private void readLoop() {
    Throwable cause = null;
    try {
      byte[] line;
      while (!dead && (line = readLine()) != null) {
        if (line.length == 0) {
          continue;
        }
        JsonNode frame = Frames.JSON.readTree(line);
        if (!frame.isObject()) {
          continue;
        }
        if ("deliver".equals(frame.path("type").asText())) {
          events.delivered(this, (ObjectNode) frame);
        } else if (frame.has("re")) {
          answer((ObjectNode) frame);
        }
        // ping and anything else unknown: nothing to do
      }
    } catch (IOException | RuntimeException e) {
      cause = e;
    } finally {
      close();
      fail(cause);
      events.ended(this, cause);
    }
  }

  private void answer(ObjectNode frame) {
    JsonNode re = frame.get("re");
    Pending match = null;
    synchronized (pending) {
      for (Iterator<Pending> it = pending.iterator(); it.hasNext(); ) {
        Pending p = it.next();
        // Answers come in order, so this is normally the head; a null re (bad_json) is the head.
        if (re.isNull() || p.id.equals(re.asText())) {
          match = p;
          it.remove();
          break;
        }
      }
    }
    if (match == null) {
      return;
    }
    if ("error".equals(frame.path("type").asText())) {
      match.answer.completeExceptionally(new ServerException(frame.path("code").asText(),
          frame.path("message").asText(), re.isNull() ? null : re.asText()));
    } else {
      match.answer.complete(frame);
    }
  }

  private void fail(Throwable cause) {
    List<Pending> left;
    synchronized (pending) {
      left = new ArrayList<>(pending);
      pending.clear();
    }
    for (Pending p : left) {
      p.answer.completeExceptionally(new ConnectionClosedException(
          "connection to " + server + " closed before the answer", cause));
    }
  }

  /** The next line without its {@code \n} (and a {@code \r} before it), or null at the end. */
  private byte[] readLine() throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream(256);
    int b;
    while ((b = in.read()) != -1) {
      if (b == '\n') {
        byte[] bytes = line.toByteArray();
        int n = bytes.length;
        return n > 0 && bytes[n - 1] == '\r' ? Arrays.copyOf(bytes, n - 1) : bytes;
      }
      if (line.size() >= MAX_INCOMING_FRAME) {
        throw new IOException("frame over " + MAX_INCOMING_FRAME + " bytes from " + host);
      }
      line.write(b);
    }
    return null;
  }
}
