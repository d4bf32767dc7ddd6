package org.esmp.load.net;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;

/**
 * The server under load: where to connect and the domain of the addresses the tool registers.
 *
 * @param domain the domain of every address the tool creates; the server must serve it
 */
public record Target(String host, int port, String domain, int connectTimeoutMillis) {

  /** A new TCP connection with Nagle off (frames are flushed in batches by the writer already). */
  public Socket connect() throws IOException {
    Socket socket = new Socket();
    try {
      socket.setTcpNoDelay(true);
      socket.connect(new InetSocketAddress(host, port), connectTimeoutMillis);
      return socket;
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
    return host + ":" + port;
  }
}
