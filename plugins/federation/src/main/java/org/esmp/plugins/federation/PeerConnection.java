package org.esmp.plugins.federation;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import org.esmp.api.JsonCodec;
import org.esmp.api.federation.Federation;
import org.esmp.api.json.JsonObject;

/**
 * One open connection to a peer's server (ESMP/1 section 1): frames are JSON objects on lines,
 * written and read with blocking I/O by the one thread that owns the connection; {@link #close}
 * may come from any thread and ends a read in progress.
 */
final class PeerConnection implements AutoCloseable {

  /** Longest frame read from a peer: a forwarded {@code history} answer may be long. */
  static final int MAX_FRAME_READ = 16 * 1024 * 1024;

  /** How the connection is carried. */
  enum Transport {
    TLS("TLS"),
    PLAINTEXT("plaintext");

    private final String text;

    Transport(String text) {
      this.text = text;
    }

    @Override
    public String toString() {
      return text;
    }
  }

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;
  private final JsonCodec json;
  private final Transport transport;
  private final Federation.Endpoint endpoint;

  PeerConnection(Socket socket, Transport transport, Federation.Endpoint endpoint, JsonCodec json) throws IOException {
    this.socket = socket;
    this.in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
    this.out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
    this.json = json;
    this.transport = transport;
    this.endpoint = endpoint;
  }

  Transport transport() {
    return transport;
  }

  Federation.Endpoint endpoint() {
    return endpoint;
  }

  /** Writes a frame into the buffer; {@link #flush} sends what was written. */
  void write(JsonObject frame) throws IOException {
    write(json.write(frame));
  }

  /** Writes a frame already made JSON (one line, no line ending) into the buffer. */
  void write(byte[] frame) throws IOException {
    out.write(frame);
    out.write('\n');
  }

  void flush() throws IOException {
    out.flush();
  }

  /**
   * The next frame, waiting at most {@code timeoutMillis}.
   *
   * @throws PeerException when none comes in time, the peer closed the connection, or it sent
   *     something that is not a frame
   */
  JsonObject read(long timeoutMillis) throws IOException {
    socket.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, timeoutMillis)));
    try {
      while (true) {
        byte[] line = readLine();
        if (line.length > 0) {
          try {
            return json.parseObject(line);
          } catch (IllegalArgumentException e) {
            throw new PeerException(endpoint + " sent a line that is not a JSON object: " + e.getMessage());
          }
        }
      }
    } catch (SocketTimeoutException e) {
      throw new PeerException(endpoint + " did not answer within " + timeoutMillis + " ms", e);
    }
  }

  /**
   * Whether the peer closed this connection (or it broke), looked at without waiting: for a
   * connection that idled, before it is used again.
   */
  boolean closedByPeer() {
    try {
      if (in.available() > 0) {
        return false;
      }
      socket.setSoTimeout(1);
      in.mark(1);
      int next = in.read();
      if (next < 0) {
        return true;
      }
      in.reset();
      return false;
    } catch (SocketTimeoutException quiet) {
      return false;
    } catch (IOException broken) {
      return true;
    }
  }

  /** Whether a frame may be read without waiting: more of it arrived already. */
  boolean hasBuffered() {
    try {
      return in.available() > 0;
    } catch (IOException e) {
      return false; // the next read says what went wrong
    }
  }

  private byte[] readLine() throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream(256);
    while (true) {
      int b = in.read();
      if (b < 0) {
        throw new PeerException(endpoint + " closed the connection");
      }
      if (b == '\n') {
        byte[] bytes = line.toByteArray();
        int length = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return length == bytes.length ? bytes : java.util.Arrays.copyOf(bytes, length);
      }
      if (line.size() >= MAX_FRAME_READ) {
        throw new PeerException(endpoint + " sent a frame longer than " + MAX_FRAME_READ + " bytes");
      }
      line.write(b);
    }
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException ignored) {
      // closing: nothing more to do with it
    }
  }
}
