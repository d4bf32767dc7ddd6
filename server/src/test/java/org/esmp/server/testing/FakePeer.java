package org.esmp.server.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.esmp.client.InvalidMessageException;
import org.esmp.client.Messages;

/**
 * The server of another domain, played by the test on a loopback port: it sends a {@code hello}
 * announcing a server key of the test's choice, records every frame a real server sends it (with
 * whether it verifies under its own {@code sender_pubkey}, and its id), and answers each one as
 * {@link #answers} says: by default, {@code auth} and {@code relay} with an {@code ack}.
 */
public final class FakePeer implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * One frame received.
   *
   * @param connection which accepted connection it came on, from 1
   * @param challenge the challenge that connection's {@code hello} carried
   * @param frame the frame
   * @param id its message id when it verified under its {@code sender_pubkey}, else null
   */
  public record Received(int connection, String challenge, JsonNode frame, String id) {
    public String type() {
      return frame.path("type").asText();
    }
  }

  private final String domain;
  private final String announcedKey;
  private final ServerSocket listener;
  private final List<Received> received = new CopyOnWriteArrayList<>();
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final AtomicInteger connections = new AtomicInteger();
  private volatile Function<Received, String> answers = FakePeer::ack;
  private final Thread acceptor;

  /** Listens now on a free loopback port as the server of {@code domain}, announcing {@code announcedKey} in its hello. */
  public FakePeer(String domain, String announcedKey) throws IOException {
    this.domain = domain;
    this.announcedKey = announcedKey;
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.acceptor = new Thread(this::accept, "fake-peer-" + domain);
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** The default answer: {@code ack} (with {@code "server"} for an {@code auth}); nothing for a frame that did not verify. */
  public static String ack(Received r) {
    if (r.id() == null) {
      return "{\"type\":\"error\",\"re\":null,\"code\":\"bad_signature\",\"message\":\"fake peer\"}";
    }
    ObjectNode ack = JSON.createObjectNode().put("type", "ack").put("re", r.id()).put("duplicate", false);
    if (r.type().equals("auth")) {
      ack.put("server", r.frame().path("body").path("server").asText());
    }
    return ack.toString();
  }

  public int port() {
    return listener.getLocalPort();
  }

  public String domain() {
    return domain;
  }

  /** How it answers each frame from now on: the line to send, or null for no answer. */
  public void answers(Function<Received, String> answers) {
    this.answers = answers;
  }

  /** Every frame received so far, in order. */
  public List<Received> received() {
    return List.copyOf(received);
  }

  /** The frames of {@code type} received so far. */
  public List<Received> received(String type) {
    return received.stream().filter(r -> r.type().equals(type)).toList();
  }

  /** How many connections it accepted so far. */
  public int connections() {
    return connections.get();
  }

  private void accept() {
    while (!listener.isClosed()) {
      try {
        Socket socket = listener.accept();
        sockets.add(socket);
        int number = connections.incrementAndGet();
        Thread reader = new Thread(() -> serve(socket, number), "fake-peer-" + domain + "-" + number);
        reader.setDaemon(true);
        reader.start();
      } catch (IOException closed) {
        return;
      }
    }
  }

  private void serve(Socket socket, int number) {
    byte[] challengeBytes = new byte[32];
    new SecureRandom().nextBytes(challengeBytes);
    String challenge = Base64.getEncoder().encodeToString(challengeBytes);
    try (socket) {
      OutputStream out = socket.getOutputStream();
      ObjectNode hello = JSON.createObjectNode().put("type", "hello").put("protocol", "esmp/1").put("domain", domain);
      hello.putArray("domains").add(domain);
      hello.put("challenge", challenge).put("max_frame", 65536).put("server_key", announcedKey);
      write(out, hello.toString());
      BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      String line;
      while ((line = in.readLine()) != null) {
        if (line.isBlank()) {
          continue;
        }
        JsonNode frame = JSON.readTree(line);
        String id;
        try {
          id = Messages.verify(frame);
        } catch (InvalidMessageException e) {
          id = null;
        }
        Received r = new Received(number, challenge, frame, id);
        received.add(r);
        String answer = answers.apply(r);
        if (answer != null) {
          write(out, answer);
        }
      }
    } catch (IOException closed) {
      // the server closed the connection, or this peer was closed
    }
  }

  private static void write(OutputStream out, String line) throws IOException {
    synchronized (out) {
      out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
    }
  }

  @Override
  public void close() throws IOException {
    listener.close();
    for (Socket socket : sockets) {
      socket.close();
    }
  }
}
