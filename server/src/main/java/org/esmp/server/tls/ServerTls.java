package org.esmp.server.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.KeyManagerFactory;
import org.esmp.server.config.ConfigException;
import org.esmp.server.config.ServerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS side of the ESMP port: the context each new TLS connection gets, made from the
 * configured PEM certificate chain and key, TLS 1.3 and 1.2 only, on the JDK's own provider.
 *
 * <p>{@link #reloadIfChanged()} reads the two files again (the server calls it every {@code
 * tls_reload_seconds}): when their bytes changed and they make a good pair, new connections get the
 * new certificate; connections already open keep theirs. A pair that cannot be used (half
 * replaced, the key of another certificate, unreadable) is logged once and the previous one goes
 * on being served, so a renewal never takes the server's TLS down.
 */
public final class ServerTls {

  private static final Logger log = LoggerFactory.getLogger(ServerTls.class);

  /** TLS versions offered: 1.3 and 1.2, nothing older. */
  public static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};
  /** A certificate expiring sooner than this is warned about at each load. */
  private static final Duration EXPIRY_WARNING = Duration.ofDays(14);
  private static final char[] KEYSTORE_PASSWORD = "esmp".toCharArray();

  private final ServerConfig.Tls settings;
  private final AtomicReference<Served> current = new AtomicReference<>();
  /** The digest of the files last refused, so that one bad pair is logged once. */
  private byte[] refused;

  /** A context and the digest of the file bytes it was made from. */
  private record Served(SslContext context, byte[] digest, X509Certificate certificate) {}

  private ServerTls(ServerConfig.Tls settings) {
    this.settings = settings;
  }

  /**
   * Loads the configured pair.
   *
   * @throws ConfigException naming the file when the pair cannot be read or used
   */
  public static ServerTls load(ServerConfig.Tls settings) {
    if (!settings.enabled()) {
      throw new IllegalArgumentException("TLS is off");
    }
    ServerTls tls = new ServerTls(settings);
    try {
      tls.current.set(tls.build(tls.digestFiles()));
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      throw new ConfigException("TLS: " + reason(e));
    }
    return tls;
  }

  /** A handler for a new connection, with the certificate served now. */
  public SslHandler newHandler(ByteBufAllocator alloc) {
    return current.get().context().newHandler(alloc);
  }

  /** The certificate served to new connections now. */
  public X509Certificate certificate() {
    return current.get().certificate();
  }

  /**
   * Reads the files again and serves them to new connections if they changed and make a good pair.
   *
   * @return whether a new pair is served from now on
   */
  public synchronized boolean reloadIfChanged() {
    byte[] digest;
    try {
      digest = digestFiles();
    } catch (IOException e) {
      warnOnce(null, e.getMessage());
      return false;
    }
    if (Arrays.equals(digest, current.get().digest()) || Arrays.equals(digest, refused)) {
      return false;
    }
    try {
      Served next = build(digest);
      current.set(next);
      refused = null;
      log.info("TLS: serving the new certificate of {} from {} to new connections", subject(next.certificate()),
          settings.cert().toAbsolutePath());
      return true;
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      warnOnce(digest, reason(e));
      return false;
    }
  }

  /** The message of {@code e} and of what caused it, on one line. */
  private static String reason(Throwable e) {
    StringBuilder text = new StringBuilder(String.valueOf(e.getMessage()));
    for (Throwable cause = e.getCause(); cause != null && cause != cause.getCause(); cause = cause.getCause()) {
      if (cause.getMessage() != null && !text.toString().contains(cause.getMessage())) {
        text.append(": ").append(cause.getMessage());
      }
    }
    return text.toString();
  }

  private void warnOnce(byte[] digest, String why) {
    if (digest != null && Arrays.equals(digest, refused)) {
      return;
    }
    refused = digest;
    log.warn("TLS: the certificate or key file changed but cannot be used ({}); still serving the previous certificate",
        why);
  }

  private Served build(byte[] digest) throws IOException, GeneralSecurityException {
    PemKeyPair pair = PemKeyPair.read(settings.cert(), settings.key());
    X509Certificate own = pair.chain().get(0);
    Instant notAfter = own.getNotAfter().toInstant();
    if (notAfter.isBefore(Instant.now())) {
      log.warn("TLS: the certificate of {} in {} expired at {}", subject(own), settings.cert(), notAfter);
    } else if (notAfter.isBefore(Instant.now().plus(EXPIRY_WARNING))) {
      log.warn("TLS: the certificate of {} in {} expires at {}", subject(own), settings.cert(), notAfter);
    }
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    store.setKeyEntry("esmp", pair.key(), KEYSTORE_PASSWORD, pair.chain().toArray(X509Certificate[]::new));
    KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keys.init(store, KEYSTORE_PASSWORD);
    SslContext context = SslContextBuilder.forServer(keys)
        .sslProvider(SslProvider.JDK)
        .protocols(PROTOCOLS)
        .build();
    return new Served(context, digest, own);
  }

  /** SHA-256 of both files' bytes: a changed byte in either is a new pair. */
  private byte[] digestFiles() throws IOException {
    MessageDigest sha256;
    try {
      sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    sha256.update(readFile(settings.cert(), "certificate"));
    sha256.update(readFile(settings.key(), "key"));
    return sha256.digest();
  }

  private static byte[] readFile(Path file, String what) throws IOException {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new IOException("cannot read the " + what + " file " + file + ": " + e, e);
    }
  }

  /** The certificate's subject, for log lines. */
  static String subject(X509Certificate certificate) {
    return certificate.getSubjectX500Principal().getName();
  }

  /** The SHA-256 fingerprint of a certificate's DER bytes, as hex pairs joined by colons. */
  public static String fingerprint(X509Certificate certificate) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
      return HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
