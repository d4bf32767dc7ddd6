package org.esmp.server.tls;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.Locale;
import java.util.Optional;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import org.esmp.api.ErrorCode;
import org.esmp.api.RejectedException;
import org.esmp.api.json.JsonObject;

/**
 * What binds an {@code auth} to the TLS connection it was made for: the {@code
 * tls-server-end-point} channel binding of RFC 5929 §4.1, the hash of the certificate the server
 * presented on that connection (SHA-256 unless the certificate is signed with SHA-384 or SHA-512,
 * which are then used). The client puts it, base64, in the {@code auth} body as {@value #FIELD},
 * and so signs it along with the challenge. A relay between a client and this server presents its
 * own certificate to the client: an {@code auth} it passes on names that certificate, not this
 * server's, and is refused (docs/PROTOCOL.md).
 *
 * <p>Why not RFC 9266's {@code tls-exporter}, which would bind to the connection itself: Java 17's
 * JSSE exports no keying material, and the BouncyCastle JSSE provider erases the exporter secret
 * when the handshake completes, before an application can ask for it (bctls 1.82 to 1.84).
 */
public final class ChannelBinding {

  /** The channel binding type, RFC 5929 §4. */
  public static final String TYPE = "tls-server-end-point";
  /** The member of the {@code auth} body that carries it. */
  public static final String FIELD = "tls_server_end_point";

  private ChannelBinding() {}

  /**
   * The base64 binding of the connection whose handshake {@code engine} completed here, on the
   * server: of the certificate it presented.
   *
   * @throws SSLException when it presented none
   */
  public static String of(SSLEngine engine) throws SSLException {
    Certificate[] presented = engine.getSession().getLocalCertificates();
    if (presented == null || presented.length == 0 || !(presented[0] instanceof X509Certificate own)) {
      throw new SSLException("the TLS connection presented no certificate");
    }
    return Base64.getEncoder().encodeToString(of(own));
  }

  /** The {@code tls-server-end-point} binding of a server certificate (RFC 5929 §4.1). */
  public static byte[] of(X509Certificate certificate) {
    String signature = certificate.getSigAlgName().toUpperCase(Locale.ROOT);
    String hash = signature.contains("SHA512") ? "SHA-512" : signature.contains("SHA384") ? "SHA-384" : "SHA-256";
    try {
      return MessageDigest.getInstance(hash).digest(certificate.getEncoded());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot hash a certificate: " + e.getMessage(), e);
    }
  }

  /**
   * Checks the binding an {@code auth} body names against {@code expected}, the connection's (empty
   * on plaintext): the {@code auth} of a TLS connection names its channel binding, so an {@code auth}
   * relayed from another connection fails here; one on plaintext names none, so a relay that strips
   * TLS fails too. Refuses with {@code bad_field} or {@code forbidden}.
   */
  public static void check(JsonObject body, Optional<String> expected) {
    Optional<String> given = body.string(FIELD);
    if (body.has(FIELD) && given.isEmpty()) {
      throw new RejectedException(ErrorCode.BAD_FIELD, FIELD + " must be a base64 string");
    }
    if (expected.isPresent() && given.isEmpty()) {
      throw new RejectedException(ErrorCode.FORBIDDEN, "auth on a TLS connection must carry "
          + FIELD + ", the connection's " + TYPE + " channel binding (RFC 5929)");
    }
    if (expected.isEmpty() && given.isPresent()) {
      throw new RejectedException(ErrorCode.FORBIDDEN, FIELD
          + " on a connection that is not TLS here: something between the client and this server took TLS off");
    }
    if (expected.isPresent() && !MessageDigest.isEqual(expected.get().getBytes(StandardCharsets.US_ASCII),
        given.get().getBytes(StandardCharsets.US_ASCII))) {
      throw new RejectedException(ErrorCode.FORBIDDEN, FIELD
          + " is not this connection's: the auth was made for a TLS connection with another certificate");
    }
  }
}
