package org.esmp.client;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A stand-in server speaking just enough ESMP/1 for client tests: it sends {@code hello}, then
 * hands each frame to a script, which answers as the test needs (including deliveries a real
 * server would never send). Connections are served one after the other, each on its own thread.
 * Public for the tests of {@code org.esmp.client.cli}.
 */
public final class FakeServer implements Closeable {

  public static final ObjectMapper JSON = new ObjectMapper();
  public static final String DOMAIN = "example.com";

  /** What the test does with each frame a client sends. */
  public interface Script {
    void onFrame(Conn conn, ObjectNode frame) throws IOException;
  }

  /** One accepted connection. */
  public static final class Conn {
    public final int number;
    private final Socket socket;
    private final OutputStream out;

    Conn(int number, Socket socket) throws IOException {
      this.number = number;
      this.socket = socket;
      this.out = socket.getOutputStream();
    }

    public synchronized void send(JsonNode frame) throws IOException {
      out.write(frame.toString().getBytes(UTF_8));
      out.write('\n');
      out.flush();
    }

    public void ack(ObjectNode frame) throws IOException {
      ObjectNode ack = JSON.createObjectNode();
      ack.put("type", "ack");
      ack.put("re", idOf(frame));
      ack.put("duplicate", false);
      send(ack);
    }

    public void close() throws IOException {
      socket.close();
    }
  }

  private final ServerSocket socket;
  private final Script script;
  public final LinkedBlockingQueue<ObjectNode> received = new LinkedBlockingQueue<>();
  private final List<Conn> conns = new CopyOnWriteArrayList<>();
  private final Thread acceptor;

  public FakeServer(Script script) throws IOException {
    this.socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.script = script;
    this.acceptor = new Thread(this::acceptLoop, "fake-server");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  public int port() {
    return socket.getLocalPort();
  }

  /** The id a real server would compute for {@code frame}. */
  public static String idOf(JsonNode frame) {
    byte[] key = Base64.getDecoder().decode(frame.path("sender_pubkey").asText());
    return Messages.id(key, Messages.signingBytes(frame));
  }

  private void acceptLoop() {
    int n = 0;
    while (!socket.isClosed()) {
      try {
        Socket s = socket.accept();
        Conn conn = new Conn(++n, s);
        conns.add(conn);
        Thread t = new Thread(() -> serve(conn, s), "fake-conn-" + n);
        t.setDaemon(true);
        t.start();
      } catch (IOException closed) {
        return;
      }
    }
  }

  private void serve(Conn conn, Socket s) {
    try (s) {
      ObjectNode hello = JSON.createObjectNode();
      hello.put("type", "hello").put("protocol", "esmp/1").put("domain", DOMAIN);
      hello.putArray("domains").add(DOMAIN);
      hello.put("challenge", Base64.getEncoder().encodeToString(new byte[32]));
      hello.put("max_frame", 65536);
      conn.send(hello);
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), UTF_8));
      String line;
      while ((line = in.readLine()) != null) {
        ObjectNode frame = (ObjectNode) JSON.readTree(line);
        received.add(frame);
        script.onFrame(conn, frame);
      }
    } catch (IOException closed) {
      // the test is over with this connection
    }
  }

  /** A {@code deliver} frame for {@code message} signed by {@code sender}. */
  public static ObjectNode deliver(long cursor, String from, ObjectNode message) {
    ObjectNode d = JSON.createObjectNode();
    d.put("type", "deliver");
    d.put("cursor", cursor);
    d.put("id", idOf(message));
    d.put("from", from);
    d.put("received_at", 1764000000000L + cursor);
    d.set("message", message);
    return d;
  }

  /** A signed {@code text} message from {@code key} to {@code to}. */
  public static ObjectNode text(SigningKey key, String to, String text, long ts) {
    ObjectNode m = JSON.createObjectNode();
    m.put("type", "text");
    m.putArray("to").add(to);
    m.putObject("body").put("text", text);
    m.put("ts", ts);
    return Messages.sign(m, key).frame();
  }

  @Override
  public void close() throws IOException {
    socket.close();
    for (Conn c : conns) {
      c.close();
    }
  }
}
