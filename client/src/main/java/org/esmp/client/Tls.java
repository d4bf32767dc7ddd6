package org.esmp.client;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * How a client speaks TLS to its server and which server certificates it trusts: the system's
 * CAs ({@link #systemTrust()}), the certificates of a PEM file ({@link #trusting(Path)}), or one
 * certificate pinned by its SHA-256 fingerprint ({@link #pinned(String)}, for a self-signed
 * server). With CAs the certificate must be valid for the host name connected to.
 *
 * <p>TLS 1.3 or 1.2. The connection's {@code
 * tls-server-end-point} channel binding (RFC 5929 §4: the hash of the certificate the server
 * presented) that {@code auth} carries as {@code tls_server_end_point}: an {@code auth} made through
 * a relay that presented its own certificate is worth nothing at the real server.
 */
public final class Tls {

  private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

  private final SSLContext context;
  /** Whether the certificate must name the host (CAs); not for a pin. */
  private final boolean checkHost;
  private final String description;

  private Tls(TrustManager trust, boolean checkHost, String description) {
    try {
      this.context = SSLContext.getInstance("TLS");
      context.init(null, trust == null ? null : new TrustManager[] {trust}, null);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("no TLS: " + e.getMessage(), e);
    }
    this.checkHost = checkHost;
    this.description = description;
  }

  /** Trusts the certificates the JDK trusts (its {@code cacerts}), for the host name connected to. */
  public static Tls systemTrust() {
    return new Tls(null, true, "the system's CAs");
  }

  /**
   * Trusts the certificates in a PEM file (CAs, or the server's own self-signed certificate), for
   * the host name connected to.
   *
   * @throws IOException when the file cannot be read or holds no certificate
   */
  public static Tls trusting(Path pemFile) throws IOException {
    try (InputStream in = Files.newInputStream(pemFile)) {
      KeyStore anchors = KeyStore.getInstance(KeyStore.getDefaultType());
      anchors.load(null, null);
      int n = 0;
      for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        anchors.setCertificateEntry("ca" + n++, c);
      }
      if (n == 0) {
        throw new IOException(pemFile + ": no PEM certificate in it");
      }
      TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(anchors);
      return new Tls(factory.getTrustManagers()[0], true, pemFile.toString());
    } catch (GeneralSecurityException e) {
      throw new IOException(pemFile + ": not PEM certificates: " + e.getMessage(), e);
    }
  }

  /**
   * Trusts exactly the server certificate with this SHA-256 fingerprint (of its DER bytes), as
   * {@code esmp-server tls-selfsigned} and {@code openssl x509 -noout -fingerprint -sha256} print
   * it: hex, with or without colons, any case, optionally after {@code sha256:} or {@code
   * SHA256 Fingerprint=}. No CA and no host name is checked: the pin is the trust.
   *
   * @throws IllegalArgumentException when it is not 32 bytes of hex
   */
  public static Tls pinned(String fingerprint) {
    byte[] pin = parseFingerprint(fingerprint);
    return new Tls(new PinnedTrust(pin), false, "the pinned certificate " + HexFormat.of().formatHex(pin));
  }

  static byte[] parseFingerprint(String text) {
    String hex = text.trim();
    int equals = hex.lastIndexOf('=');
    if (equals >= 0) {
      hex = hex.substring(equals + 1);
    }
    if (hex.toLowerCase(Locale.ROOT).startsWith("sha256:")) {
      hex = hex.substring("sha256:".length());
    }
    hex = hex.replace(":", "").trim();
    if (hex.length() != 64) {
      throw new IllegalArgumentException("a SHA-256 fingerprint is 32 bytes of hex (64 digits), got '" + text + "'");
    }
    try {
      return HexFormat.of().parseHex(hex.toLowerCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("a SHA-256 fingerprint is hex digits, got '" + text + "'");
    }
  }

  /**
   * Wraps a connected socket in TLS and completes the handshake, for clients that speak the
   * protocol themselves (the load tool): the binding goes into their {@code auth} body as {@code
   * tls_server_end_point}.
   *
   * @return the TLS socket and its channel binding
   * @throws SSLException when the handshake fails (the socket is closed)
   */
  public Secured secure(Socket plain, String host, int port) throws IOException {
    SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(plain, host, port, true);
    SSLParameters parameters = socket.getSSLParameters();
    parameters.setProtocols(PROTOCOLS);
    if (checkHost) {
      parameters.setEndpointIdentificationAlgorithm("HTTPS");
    }
    socket.setSSLParameters(parameters);
    try {
      socket.startHandshake();
    } catch (SSLException e) {
      socket.close();
      throw new SSLException("TLS with " + host + ":" + port + " failed (trusting " + description + "): "
          + e.getMessage() + " (does the server have TLS on?)", e);
    }
    Certificate[] presented = socket.getSession().getPeerCertificates();
    return new Secured(socket, Base64.getEncoder().encodeToString(serverEndPoint((X509Certificate) presented[0])));
  }

  /**
   * RFC 5929 §4.1 {@code tls-server-end-point}: the hash of the server's certificate, SHA-256
   * unless it is signed with SHA-384 or SHA-512.
   */
  static byte[] serverEndPoint(X509Certificate certificate) {
    String signature = certificate.getSigAlgName().toUpperCase(Locale.ROOT);
    String hash = signature.contains("SHA512") ? "SHA-512" : signature.contains("SHA384") ? "SHA-384" : "SHA-256";
    try {
      return MessageDigest.getInstance(hash).digest(certificate.getEncoded());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot hash a certificate: " + e.getMessage(), e);
    }
  }

  /**
   * A socket after its TLS handshake, and its {@code tls-server-end-point} channel binding.
   *
   * @param binding base64, as {@code auth} carries it
   */
  public record Secured(SSLSocket socket, String binding) {}

  /** Trusts one leaf certificate by fingerprint. */
  private static final class PinnedTrust extends X509ExtendedTrustManager {
    private final byte[] pin;

    PinnedTrust(byte[] pin) {
      this.pin = pin;
    }

    private void check(X509Certificate[] chain) throws CertificateException {
      if (chain == null || chain.length == 0) {
        throw new CertificateException("the server sent no certificate");
      }
      byte[] seen;
      try {
        seen = MessageDigest.getInstance("SHA-256").digest(chain[0].getEncoded());
      } catch (GeneralSecurityException e) {
        throw new CertificateException(e);
      }
      if (!MessageDigest.isEqual(seen, pin)) {
        throw new CertificateException("the server's certificate has the SHA-256 fingerprint "
            + HexFormat.ofDelimiter(":").withUpperCase().formatHex(seen) + ", not the pinned one");
      }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      throw new CertificateException("a client does not trust clients");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      throw new CertificateException("a client does not trust clients");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      throw new CertificateException("a client does not trust clients");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
