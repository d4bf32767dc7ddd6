package org.esmp.server.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.security.cert.X509Certificate;
import org.esmp.server.tls.ChannelBinding;

/**
 * A raw ESMP connection for tests: writes lines, reads server frames with an independent JSON
 * parser (Jackson databind), so the wire format itself is what gets tested.
 */
public final class TestClient implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int TIMEOUT_MS = 10_000;

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;
  private final JsonNode hello;
  private final String tlsBinding;

  public TestClient(int port) throws IOException {
    this(port, null);
  }

  /**
   * A connection from {@code localIp} (e.g. {@code 127.0.0.2}: on Linux every 127/8 address is
   * loopback), so that per-IP limits see another client; {@code null}: the system's choice.
   */
  public TestClient(int port, String localIp) throws IOException {
    this(port, localIp, 0);
  }

  /**
   * A connection whose socket receive buffer is {@code bytes}: one that stops reading holds little
   * in the kernel, so what the server queues for it stays in the server.
   */
  public static TestClient withReceiveBuffer(int port, int bytes) throws IOException {
    return new TestClient(port, null, bytes);
  }

  private TestClient(int port, String localIp, int receiveBuffer) throws IOException {
    this(connect(port, localIp, receiveBuffer), null);
  }

  private static Socket connect(int port, String localIp, int receiveBuffer) throws IOException {
    Socket socket = new Socket();
    if (receiveBuffer > 0) {
      socket.setReceiveBufferSize(receiveBuffer); // before connecting: it sets the window offered
    }
    if (localIp != null) {
      socket.bind(new InetSocketAddress(localIp, 0));
    }
    socket.connect(new InetSocketAddress("127.0.0.1", port), TIMEOUT_MS);
    socket.setSoTimeout(TIMEOUT_MS);
    return socket;
  }

  /**
   * A connection that speaks TLS with {@code context} (which decides what it trusts), and knows its
   * {@code tls-server-end-point} channel binding ({@link #tlsBinding()}).
   */
  public static TestClient overTls(int port, SSLContext context) throws IOException {
    Socket plain = connect(port, null, 0);
    SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(plain, "127.0.0.1", port, true);
    socket.startHandshake();
    byte[] binding = ChannelBinding.of((X509Certificate) socket.getSession().getPeerCertificates()[0]);
    return new TestClient(socket, Base64.getEncoder().encodeToString(binding));
  }

  private TestClient(Socket connected, String tlsBinding) throws IOException {
    this.socket = connected;
    this.tlsBinding = tlsBinding;
    in = new java.io.BufferedInputStream(socket.getInputStream());
    out = socket.getOutputStream();
    hello = read();
  }

  /** The connection's TLS channel binding, base64; null on plaintext. */
  public String tlsBinding() {
    return tlsBinding;
  }

  /** The {@code hello} the server sent on connect. */
  public JsonNode hello() {
    return hello;
  }

  /** Sends {@code line} followed by a newline. */
  public void send(String line) throws IOException {
    sendRaw((line + "\n").getBytes(StandardCharsets.UTF_8));
  }

  /** Sends bytes exactly as given. */
  public void sendRaw(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  /** Half-closes: tells the server this client sends nothing more. */
  public void shutdownOutput() throws IOException {
    socket.shutdownOutput();
  }

  /** Reads the next server frame (skipping pings); fails after the timeout. */
  public JsonNode read() throws IOException {
    while (true) {
      String line = readLine();
      if (line == null) {
        throw new IOException("connection closed by the server");
      }
      JsonNode frame = JSON.readTree(line);
      if (!frame.path("type").asText().equals("ping")) {
        return frame;
      }
    }
  }

  /** Sends {@code line} and reads the answer. */
  public JsonNode call(String line) throws IOException {
    send(line);
    return read();
  }

  /** Whether the server closed the connection (reads until end of stream, bounded by the timeout). */
  public boolean closedByServer() throws IOException {
    try {
      return readLine() == null;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true; // reset by peer
    }
  }

  private String readLine() throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) != -1) {
      if (b == '\n') {
        return line.toString(StandardCharsets.UTF_8);
      }
      line.write(b);
    }
    return null;
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
