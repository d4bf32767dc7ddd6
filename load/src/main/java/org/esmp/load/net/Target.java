package org.esmp.load.net;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import org.esmp.client.Tls;

/**
 * The server under load: where to connect, with TLS or not, and the domain of the addresses the
 * tool registers.
 *
 * @param domain the domain of every address the tool creates; the server must serve it
 * @param tls how to speak TLS to it; null for plaintext
 */
public record Target(String host, int port, String domain, int connectTimeoutMillis, Tls tls) {

  /** A connection, and the TLS channel binding its {@code auth} must carry (null on plaintext). */
  public record Connection(Socket socket, String tlsBinding) {}

  /**
   * A new TCP connection with Nagle off (frames are flushed in batches by the writer already),
   * after its TLS handshake when the target speaks TLS.
   */
  public Connection connect() throws IOException {
    Socket socket = new Socket();
    try {
      socket.setTcpNoDelay(true);
      socket.connect(new InetSocketAddress(host, port), connectTimeoutMillis);
      if (tls == null) {
        return new Connection(socket, null);
      }
      socket.setSoTimeout(connectTimeoutMillis);
      Tls.Secured secured = tls.secure(socket, host, port);
      secured.socket().setSoTimeout(0);
      return new Connection(secured.socket(), secured.binding());
    } catch (ConnectException e) {
      socket.close();
      throw new ConnectException("cannot connect to " + this + ": " + e.getMessage()
          + " (is the server running there?)");
    } catch (SocketTimeoutException e) {
      socket.close();
      throw new SocketTimeoutException("no answer from " + this + " within " + connectTimeoutMillis + " ms");
    } catch (IOException e) {
      socket.close();
      throw e;
    }
  }

  @Override
  public String toString() {
    return host + ":" + port + (tls == null ? "" : " (TLS)");
  }
}
