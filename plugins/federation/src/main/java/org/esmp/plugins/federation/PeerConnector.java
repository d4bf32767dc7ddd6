package org.esmp.plugins.federation;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.esmp.api.Ed25519Key;
import org.esmp.api.JsonCodec;
import org.esmp.api.SignedMessage;
import org.esmp.api.federation.Federation;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonValue;

/**
 * Opens connections to a domain's server: tries its endpoints in order; speaks TLS, or, to a
 * peer whose key is pinned and that does not speak TLS, plaintext; reads {@code hello}; checks its
 * {@code server_key} ({@link PeerTrust}); and authenticates this server with {@code auth}. Blocks:
 * called on the plugin's own threads. {@link #close} ends every attempt in progress.
 */
final class PeerConnector implements AutoCloseable {

  /**
   * A connection to a peer's server and what it said first.
   *
   * @param binding the TLS channel binding, for {@code auth}; empty in plaintext
   * @param trust how the peer's key was trusted
   */
  record Opened(PeerConnection connection, JsonObject hello, Optional<String> binding, PeerTrust.How trust) {}

  private final String server;
  private final Federation federation;
  private final PeerTls tls;
  private final PeerTrust trust;
  private final Frames frames;
  private final JsonCodec json;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  /**
   * @param server this server's domain, as it authenticates to peers
   */
  PeerConnector(String server, Federation federation, PeerTls tls, PeerTrust trust, Frames frames, JsonCodec json) {
    this.server = server;
    this.federation = federation;
    this.tls = tls;
    this.trust = trust;
    this.frames = frames;
    this.json = json;
  }

  /**
   * A connection to {@code domain}'s server, authenticated as this server.
   *
   * @throws PeerException when no endpoint could be used; the last endpoint's reason
   */
  Opened open(String domain) throws PeerException {
    PeerException last = null;
    List<Federation.Endpoint> endpoints = federation.endpoints(domain);
    for (Federation.Endpoint endpoint : endpoints) {
      Opened opened = null;
      try {
        opened = hello(domain, endpoint);
        authenticate(opened);
        return opened;
      } catch (PeerException e) {
        last = e;
      } catch (IOException e) {
        last = new PeerException(endpoint + ": " + e, e);
      }
      if (opened != null) {
        release(opened.connection());
      }
      if (closed || last instanceof PeerException.KeyRefused) {
        break;
      }
    }
    throw last != null ? last : new PeerException("no endpoint for " + domain);
  }

  /**
   * The key of {@code domain}'s server, learned now: connects (TLS valid for the domain, or a pin),
   * reads {@code hello}, checks and remembers its key, and closes.
   */
  Ed25519Key learnKey(String domain) throws PeerException {
    PeerException last = null;
    for (Federation.Endpoint endpoint : federation.endpoints(domain)) {
      try {
        Opened opened = hello(domain, endpoint);
        release(opened.connection());
        return Ed25519Key.fromBase64(opened.hello().string("server_key").orElseThrow());
      } catch (PeerException e) {
        last = e;
      } catch (IOException e) {
        last = new PeerException(endpoint + ": " + e, e);
      }
      if (closed || last instanceof PeerException.KeyRefused) {
        break;
      }
    }
    throw last != null ? last : new PeerException("no endpoint for " + domain);
  }

  /** Closes a connection this connector opened. */
  void release(PeerConnection connection) {
    connection.close();
    open.removeIf(Socket::isClosed);
  }

  /** Connects, TLS or plaintext, reads {@code hello} and checks the key; no {@code auth} yet. */
  private Opened hello(String domain, Federation.Endpoint endpoint) throws IOException {
    long deadline = System.nanoTime() + federation.settings().connectTimeout().toNanos();
    Optional<Ed25519Key> pin = trust.pin(domain);
    PeerConnection connection;
    Optional<String> binding = Optional.empty();
    Socket plain = connect(endpoint, deadline);
    try {
      SSLSocket secured = tls.secure(plain, domain, endpoint.port(), pin.isPresent());
      open.add(secured);
      binding = Optional.of(federation.channelBinding(secured.getSession().getPeerCertificates()[0]));
      connection = new PeerConnection(secured, PeerConnection.Transport.TLS, endpoint, json);
    } catch (SSLException e) {
      plain.close();
      if (pin.isEmpty()) {
        throw new PeerException(endpoint + ": no TLS valid for " + domain + " (" + e.getMessage()
            + "); without a pinned key only such TLS is used", e);
      }
      // A pinned peer that does not speak TLS: the pin authenticates it over plaintext.
      connection = new PeerConnection(connect(endpoint, deadline), PeerConnection.Transport.PLAINTEXT, endpoint, json);
    }
    try {
      JsonObject hello = connection.read(remainingMillis(deadline, endpoint));
      Ed25519Key offered = checkHello(domain, endpoint, hello);
      PeerTrust.How how = trust.accept(domain, offered, binding.isPresent() && pin.isEmpty());
      return new Opened(connection, hello, binding, how);
    } catch (IOException | RuntimeException e) {
      release(connection);
      throw e;
    }
  }

  private void authenticate(Opened opened) throws IOException {
    SignedMessage auth = frames.auth(server, opened.hello(), opened.binding(), System.currentTimeMillis());
    PeerConnection connection = opened.connection();
    connection.write(auth.fields());
    connection.flush();
    JsonObject answer = connection.read(federation.settings().answerTimeout().toMillis());
    if (!answer.string("type").orElse("").equals("ack") || !answer.string("re").orElse("").equals(auth.id().hex())) {
      throw new PeerException(connection.endpoint() + " refused this server's auth as " + server + ": "
          + answer.string("code").orElse(answer.string("type").orElse("?")) + " "
          + answer.string("message").orElse(""));
    }
  }

  private Socket connect(Federation.Endpoint endpoint, long deadline) throws IOException {
    if (closed) {
      throw new PeerException("federation is stopping");
    }
    Socket socket = new Socket();
    open.add(socket);
    try {
      socket.connect(new InetSocketAddress(endpoint.host(), endpoint.port()), remainingMillis(deadline, endpoint));
      socket.setTcpNoDelay(true);
      socket.setSoTimeout(remainingMillis(deadline, endpoint));
      return socket;
    } catch (IOException e) {
      socket.close();
      open.remove(socket);
      throw new PeerException(endpoint + ": cannot connect: " + e.getMessage(), e);
    }
  }

  private static int remainingMillis(long deadline, Federation.Endpoint endpoint) throws PeerException {
    long left = (deadline - System.nanoTime()) / 1_000_000;
    if (left <= 0) {
      throw new PeerException(endpoint + ": no hello within federation_connect_seconds");
    }
    return (int) Math.min(Integer.MAX_VALUE, left);
  }

  /** The key {@code hello} offers, once it is the hello of {@code domain}'s server. */
  private static Ed25519Key checkHello(String domain, Federation.Endpoint endpoint, JsonObject hello)
      throws PeerException {
    if (!hello.string("type").orElse("").equals("hello")) {
      throw new PeerException(endpoint + " answered " + hello.string("type").orElse("?") + " "
          + hello.string("code").orElse("") + " " + hello.string("message").orElse("") + " instead of hello");
    }
    boolean serves = hello.string("domain").filter(domain::equals).isPresent();
    JsonValue domains = hello.get("domains");
    if (!serves && domains != null && domains.asArray() != null) {
      serves = domains.asArray().items().stream().anyMatch(d -> domain.equals(d.asString()));
    }
    if (!serves) {
      throw new PeerException(endpoint + " does not serve " + domain + " (its hello names "
          + hello.string("domain").orElse("?") + ")");
    }
    try {
      return Ed25519Key.fromBase64(hello.string("server_key").orElseThrow(
          () -> new PeerException(endpoint + "'s hello has no server_key: not a server that federates")));
    } catch (IllegalArgumentException e) {
      throw new PeerException(endpoint + "'s hello has a server_key that is not a key: " + e.getMessage());
    }
  }

  @Override
  public void close() {
    closed = true;
    for (Socket socket : open) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing everything: nothing more to do with this one
      }
    }
    open.clear();
  }
}
