package org.esmp.plugins.federation;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import org.esmp.api.Ed25519Key;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;
import org.esmp.api.testkit.TestFederation;
import org.esmp.api.testkit.TestJsonCodec;

/**
 * Another domain's server for the tests, on a real {@link ServerSocket}, plaintext or TLS: sends {@code
 * hello} with its {@code server_key}, answers a valid server {@code auth} with {@code ack}, and
 * answers each {@code relay} as its {@link Script} says, keeping every relay it read. A line that is
 * not JSON (a TLS ClientHello, say) ends the connection, as the real server's would.
 */
final class FakePeer implements AutoCloseable {

  /** What to do with one relay: answer it with these members (type first; {@code re} is added), or drop the connection. */
  interface Script {
    /**
     * @param connection which authenticated connection this is, from 1
     * @param index which relay of that connection, from 1
     * @return the answer's members, or {@code null} to close the connection without answering
     */
    JsonObject answer(JsonObject relay, int connection, int index);
  }

  /** One relay the peer read, and on which authenticated connection. */
  record Received(JsonObject relay, int connection) {
    JsonObject message() {
      return relay.get("message").asObject();
    }

    String recipient() {
      return relay.get("to").asArray().isEmpty() ? "" : relay.get("to").asArray().get(0).asString();
    }
  }

  static final Script ACK_ALL = (relay, connection, index) -> ack();

  private final String domain;
  private final String server;
  private volatile TestFederation verifier;
  private final Ed25519Key key = Ed25519Key.of(TestFederation.raw(TestFederation.newKeyPair().getPublic()));
  private final ServerSocket listener;
  private volatile String expectedBinding;
  private final TestJsonCodec json = new TestJsonCodec();
  private final List<Received> received = new CopyOnWriteArrayList<>();
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final AtomicInteger connections = new AtomicInteger();
  private volatile Script script = ACK_ALL;

  /**
   * @param domain the domain this peer serves
   * @param server the domain of the server that relays to it, as its {@code auth} must say
   */
  FakePeer(String domain, String server) throws IOException {
    this(domain, server, new ServerSocket(0, 50, InetAddress.getLoopbackAddress()));
  }

  /** A peer that speaks TLS only, presenting the certificate of {@code tls}. */
  FakePeer(String domain, String server, SSLContext tls, String binding) throws IOException {
    this(domain, server, tls.getServerSocketFactory().createServerSocket(0, 50, InetAddress.getLoopbackAddress()));
    this.expectedBinding = binding;
  }

  private FakePeer(String domain, String server, ServerSocket listener) {
    this.domain = domain;
    this.server = server;
    this.listener = listener;
    Thread acceptor = new Thread(this::accept, "fake-peer-" + domain);
    acceptor.setDaemon(true);
    acceptor.start();
  }

  static JsonObject ack() {
    return JsonObject.builder().put("type", "ack").build();
  }

  static JsonObject error(String code) {
    return JsonObject.builder().put("type", "error").put("code", code).put("message", code).build();
  }

  /** That server's federation, whose key must have signed every frame. */
  FakePeer verifier(TestFederation value) {
    verifier = value;
    return this;
  }

  FakePeer script(Script value) {
    script = value;
    return this;
  }

  int port() {
    return listener.getLocalPort();
  }

  Ed25519Key key() {
    return key;
  }

  /** Every relay read so far, in order. */
  List<Received> received() {
    return List.copyOf(received);
  }

  /** How many connections authenticated. */
  int connections() {
    return connections.get();
  }

  private void accept() {
    while (!listener.isClosed()) {
      try {
        Socket socket = listener.accept();
        sockets.add(socket);
        Thread handler = new Thread(() -> serve(socket), "fake-peer-connection");
        handler.setDaemon(true);
        handler.start();
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private void serve(Socket socket) {
    try (socket) {
      OutputStream out = socket.getOutputStream();
      String challenge = Base64.getEncoder().encodeToString(new byte[32]);
      send(out, JsonObject.builder().put("type", "hello").put("protocol", "esmp/1").put("domain", domain)
          .put("domains", JsonArray.ofStrings(List.of(domain))).put("challenge", challenge)
          .put("max_frame", 65_536).put("server_key", key.base64()).build());
      BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      int connection = 0;
      int index = 0;
      String line;
      while ((line = in.readLine()) != null) {
        JsonObject frame = json.parseObject(line.getBytes(StandardCharsets.UTF_8));
        String id = verifier.idOf(frame).hex();
        if (!verifier.verifies(frame) || !frame.string("sender_pubkey").orElse("").equals(verifier.serverKey().base64())) {
          send(out, reply(error("bad_signature"), id));
          continue;
        }
        String type = frame.string("type").orElse("");
        if (type.equals("auth")) {
          JsonObject body = frame.get("body").asObject();
          boolean ok = body.string("server").orElse("").equals(server)
              && body.string("challenge").orElse("").equals(challenge)
              && body.string("domain").orElse("").equals(domain)
              && body.string("tls_server_end_point").equals(java.util.Optional.ofNullable(expectedBinding));
          if (ok && connection == 0) {
            connection = connections.incrementAndGet();
          }
          send(out, reply(ok ? ack().toBuilder().put("server", server).build() : error("forbidden"), id));
        } else if (type.equals("relay")) {
          if (connection == 0) {
            send(out, reply(error("auth_required"), id));
            continue;
          }
          received.add(new Received(frame, connection));
          JsonObject answer = script.answer(frame, connection, ++index);
          if (answer == null) {
            return;
          }
          send(out, reply(answer, id));
        } else {
          send(out, reply(error("unsupported_type"), id));
        }
      }
    } catch (IOException | RuntimeException e) {
      // a dropped connection, or bytes that are not a frame: the connection ends
    }
  }

  private static JsonObject reply(JsonObject answer, String re) {
    JsonObject.Builder reply = JsonObject.builder().put("type", answer.string("type").orElseThrow()).put("re", re);
    answer.members().forEach((name, value) -> {
      if (!name.equals("type")) {
        reply.put(name, value);
      }
    });
    return reply.build();
  }

  private synchronized void send(OutputStream out, JsonObject frame) throws IOException {
    out.write(json.write(frame));
    out.write('\n');
    out.flush();
  }

  @Override
  public void close() throws IOException {
    listener.close();
    for (Socket socket : sockets) {
      socket.close();
    }
  }
}
