package org.esmp.plugins.federation;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The TLS this server speaks to a peer, TLS 1.3 or 1.2, with the peer's domain as SNI: for a peer
 * with a pinned key, any certificate (the pin, checked against {@code hello}, authenticates the
 * peer); for any other, a certificate valid for the domain (PKIX, host name = the domain, not the
 * host connected to) from the system's CAs or those of {@code federation_tls_trust}.
 */
final class PeerTls {

  private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

  private final SSLContext anyCertificate;
  private final SSLContext validForDomain;

  /**
   * @param extraTrust PEM certificates to trust besides the system's
   * @throws IOException when that file cannot be read or holds no certificate
   */
  PeerTls(Optional<Path> extraTrust) throws IOException {
    try {
      List<X509ExtendedTrustManager> trust = new ArrayList<>();
      trust.add(trustManager(null));
      if (extraTrust.isPresent()) {
        trust.add(trustManager(anchors(extraTrust.get())));
      }
      anyCertificate = context(new AnyCertificate());
      validForDomain = context(new EitherTrust(trust));
    } catch (GeneralSecurityException e) {
      throw new IOException("no TLS for federation: " + e.getMessage(), e);
    }
  }

  /**
   * Completes a TLS handshake with {@code domain}'s server over {@code plain}.
   *
   * @param pinned whether the peer's key is pinned: then its certificate is not checked
   * @throws javax.net.ssl.SSLException when the handshake fails (the socket is then closed)
   */
  SSLSocket secure(Socket plain, String domain, int port, boolean pinned) throws IOException {
    SSLContext context = pinned ? anyCertificate : validForDomain;
    SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(plain, domain, port, true);
    SSLParameters parameters = socket.getSSLParameters();
    parameters.setProtocols(PROTOCOLS);
    parameters.setServerNames(List.of(new SNIHostName(domain)));
    if (!pinned) {
      parameters.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name the domain
    }
    socket.setSSLParameters(parameters);
    try {
      socket.startHandshake();
    } catch (IOException e) {
      socket.close();
      throw e;
    }
    return socket;
  }

  private static SSLContext context(TrustManager trust) throws GeneralSecurityException {
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, new TrustManager[] {trust}, null);
    return context;
  }

  private static KeyStore anchors(Path pem) throws IOException, GeneralSecurityException {
    KeyStore anchors = KeyStore.getInstance(KeyStore.getDefaultType());
    anchors.load(null, null);
    int n = 0;
    try (InputStream in = Files.newInputStream(pem)) {
      for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        anchors.setCertificateEntry("peer-ca-" + n++, c);
      }
    }
    if (n == 0) {
      throw new IOException(pem + " (federation_tls_trust): no PEM certificate in it");
    }
    return anchors;
  }

  /** The PKIX trust manager over {@code anchors}; the system's CAs for {@code null}. */
  private static X509ExtendedTrustManager trustManager(KeyStore anchors) throws GeneralSecurityException {
    TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(anchors);
    for (TrustManager manager : factory.getTrustManagers()) {
      if (manager instanceof X509ExtendedTrustManager extended) {
        return extended;
      }
    }
    throw new GeneralSecurityException("no X509ExtendedTrustManager");
  }

  /** A trust manager of the client side only: it checks servers, and refuses to check clients. */
  private abstract static class ServerTrust extends X509ExtendedTrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
      throw new CertificateException("a federation client does not check client certificates");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      throw new CertificateException("a federation client does not check client certificates");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      throw new CertificateException("a federation client does not check client certificates");
    }
  }

  /** Trusts a server certificate that one of several PKIX trust managers trusts (each checks the host). */
  private static final class EitherTrust extends ServerTrust {
    private final List<X509ExtendedTrustManager> delegates;

    EitherTrust(List<X509ExtendedTrustManager> delegates) {
      this.delegates = List.copyOf(delegates);
    }

    private interface Check {
      void run(X509ExtendedTrustManager manager) throws CertificateException;
    }

    private void any(Check check) throws CertificateException {
      CertificateException first = null;
      for (X509ExtendedTrustManager manager : delegates) {
        try {
          check.run(manager);
          return;
        } catch (CertificateException e) {
          first = first == null ? e : first;
        }
      }
      throw first;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
      any(m -> m.checkServerTrusted(chain, authType, socket));
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      any(m -> m.checkServerTrusted(chain, authType, engine));
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      any(m -> m.checkServerTrusted(chain, authType));
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return delegates.stream().flatMap(m -> java.util.Arrays.stream(m.getAcceptedIssuers()))
          .toArray(X509Certificate[]::new);
    }
  }

  /** Trusts every server certificate: for a pinned peer, whose key is checked instead. */
  private static final class AnyCertificate extends ServerTrust {
    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
