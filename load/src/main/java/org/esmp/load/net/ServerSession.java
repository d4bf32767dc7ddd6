package org.esmp.load.net;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;

/**
 * One connection, set up and blocking: {@code hello}, {@code auth} (which registers the address
 * on an open server), and optionally {@code sync} (live deliveries from then on). Used as is for
 * idle connections and for addresses that only need to exist; {@link Pipeline} takes one over to
 * stream messages. Not thread-safe.
 */
public final class ServerSession implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Socket socket;
  private final LineReader in;
  private final OutputStream out;
  private final LoadIdentity identity;
  private Hello hello;

  private ServerSession(Socket socket, LoadIdentity identity) throws IOException {
    this.socket = socket;
    this.in = new LineReader(socket.getInputStream());
    this.out = new BufferedOutputStream(socket.getOutputStream(), 1 << 16);
    this.identity = identity;
  }

  /**
   * Connects, authenticates {@code identity} (registering it if new) and, when {@code sync}, syncs
   * from cursor 0.
   *
   * @param setupTimeoutMillis how long each answer of the setup may take
   * @throws RefusedException when the server refuses a step (a limit, a closed registration)
   * @throws LoadException when the server does not serve the target's domain
   * @throws IOException when the connection fails
   */
  public static ServerSession open(Target target, LoadIdentity identity, FrameSigner signer, boolean sync,
      int setupTimeoutMillis) throws IOException, LoadException {
    Target.Connection connection = target.connect();
    Socket socket = connection.socket();
    ServerSession session = new ServerSession(socket, identity);
    try {
      socket.setSoTimeout(setupTimeoutMillis);
      session.hello = session.readHello();
      if (!session.hello.serves(target.domain())) {
        throw new LoadException("the server at " + target + " serves " + session.hello.domains() + ", not "
            + target.domain() + ": pass --domain " + session.hello.domain());
      }
      session.call(signer.auth(identity, session.hello.challenge(), session.hello.domain(), connection.tlsBinding()),
          RefusedException.Stage.AUTH);
      if (sync) {
        session.call(signer.sync(identity), RefusedException.Stage.SYNC);
      }
      socket.setSoTimeout(0);
      return session;
    } catch (SocketTimeoutException e) {
      session.close();
      throw new LoadException("no answer from " + target + " within " + setupTimeoutMillis + " ms during setup of "
          + identity.address());
    } catch (IOException | LoadException | RuntimeException e) {
      session.close();
      throw e;
    }
  }

  /**
   * Connects and reads the server's {@code hello}, then closes: whether a server answers at all,
   * and what it serves, before any load.
   */
  public static Hello hello(Target target, int timeoutMillis) throws IOException, LoadException {
    try (Socket socket = target.connect().socket()) {
      socket.setSoTimeout(timeoutMillis);
      return new ServerSession(socket, null).readHello();
    } catch (SocketTimeoutException e) {
      throw new LoadException("no hello from " + target + " within " + timeoutMillis + " ms: is it an ESMP server?");
    }
  }

  /**
   * Sends {@code frame} and waits for its answer, skipping deliveries and pings; returns the
   * answer line.
   *
   * @throws RefusedException for an {@code error} answer or a closed connection
   */
  public byte[] call(SignedFrame frame, RefusedException.Stage stage) throws IOException, RefusedException {
    out.write(frame.line());
    out.flush();
    while (true) {
      byte[] line = in.readLine();
      if (line == null) {
        throw new RefusedException(stage, null, "the server closed the connection");
      }
      ServerFrame answer = ServerFrame.scan(line);
      if (answer.isError()) {
        throw new RefusedException(stage, answer.code(), answer.message());
      }
      if (answer.answer()) {
        return line;
      }
    }
  }

  private Hello readHello() throws IOException, RefusedException {
    byte[] line = in.readLine();
    if (line == null) {
      throw new RefusedException(RefusedException.Stage.CONNECT, null, "closed before hello");
    }
    ServerFrame frame = ServerFrame.scan(line);
    if (frame.isError()) {
      throw new RefusedException(RefusedException.Stage.CONNECT, frame.code(), frame.message());
    }
    JsonNode hello = JSON.readTree(line);
    if (!"hello".equals(frame.type()) || !hello.path("challenge").isTextual()) {
      throw new IOException("expected hello, got: " + new String(line, 0, Math.min(line.length, 200), UTF_8));
    }
    List<String> domains = new ArrayList<>();
    hello.path("domains").forEach(d -> domains.add(d.asText()));
    return new Hello(hello.path("domain").asText(), domains, hello.get("challenge").asText(),
        hello.path("max_frame").asInt(65_536));
  }

  public LoadIdentity identity() {
    return identity;
  }

  public Hello hello() {
    return hello;
  }

  LineReader in() {
    return in;
  }

  OutputStream out() {
    return out;
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException ignored) {
      // closing: nothing left to do with it
    }
  }
}
