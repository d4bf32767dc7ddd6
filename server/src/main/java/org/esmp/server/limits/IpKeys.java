package org.esmp.server.limits;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;

/** Who shares a per-IP limit: one IPv4 address, or one IPv6 /64 (what one subscriber is usually given). */
public final class IpKeys {

  private IpKeys() {}

  /** The limit key of a connection's remote address; the loopback address when it has no IP (tests). */
  public static InetAddress of(SocketAddress remote) {
    if (!(remote instanceof InetSocketAddress inet) || inet.getAddress() == null) {
      return InetAddress.getLoopbackAddress();
    }
    InetAddress ip = inet.getAddress();
    if (!(ip instanceof Inet6Address)) {
      return ip;
    }
    byte[] bytes = ip.getAddress();
    for (int i = 8; i < bytes.length; i++) {
      bytes[i] = 0;
    }
    try {
      return InetAddress.getByAddress(bytes);
    } catch (UnknownHostException e) {
      throw new IllegalStateException("16 bytes are an IPv6 address", e);
    }
  }
}
