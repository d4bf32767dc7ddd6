package org.esmp.plugins.federation;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * A self-signed certificate for a test peer's TLS, made with the JDK's {@code keytool}: its key
 * store, its PEM (what {@code federation_tls_trust} names), and a server {@link SSLContext}.
 */
final class PeerCertificate {

  private static final char[] PASSWORD = "changeit".toCharArray();

  final Path pem;
  final SSLContext server;
  final X509Certificate certificate;

  private PeerCertificate(Path pem, SSLContext server, X509Certificate certificate) {
    this.pem = pem;
    this.server = server;
    this.certificate = certificate;
  }

  /** A certificate valid for {@code dnsName}, in {@code directory}. */
  static PeerCertificate make(Path directory, String dnsName) throws IOException, InterruptedException,
      GeneralSecurityException {
    Path store = directory.resolve(dnsName + ".p12");
    Path pem = directory.resolve(dnsName + ".pem");
    keytool("-genkeypair", "-alias", "peer", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + dnsName,
        "-ext", "san=dns:" + dnsName, "-validity", "2", "-keystore", store.toString(), "-storetype", "PKCS12",
        "-storepass", new String(PASSWORD), "-keypass", new String(PASSWORD));
    keytool("-exportcert", "-rfc", "-alias", "peer", "-keystore", store.toString(), "-storetype", "PKCS12",
        "-storepass", new String(PASSWORD), "-file", pem.toString());
    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      keys.load(in, PASSWORD);
    }
    KeyManagerFactory managers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    managers.init(keys, PASSWORD);
    SSLContext server = SSLContext.getInstance("TLS");
    server.init(managers.getKeyManagers(), null, null);
    return new PeerCertificate(pem, server, (X509Certificate) keys.getCertificate("peer"));
  }

  private static void keytool(String... arguments) throws IOException, InterruptedException {
    List<String> command = new java.util.ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    command.addAll(List.of(arguments));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IOException("keytool failed: " + output);
    }
  }
}
