package org.esmp.server.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.esmp.server.testing.Programs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading the certificate chain and key files operators have: the forms openssl and certbot write. */
class PemKeyPairTest {

  @TempDir Path dir;

  private final SelfSigned pair = SelfSigned.create("example.com", Duration.ofDays(30));

  private Path write(String name, String text) throws IOException {
    return Files.writeString(dir.resolve(name), text);
  }

  @Test
  void readsAChainWithItsPkcs8Key() throws Exception {
    SelfSigned intermediate = SelfSigned.create("ca.example", Duration.ofDays(30));
    Path chain = write("fullchain.pem", pair.certificatePem() + intermediate.certificatePem());
    PemKeyPair read = PemKeyPair.read(chain, write("privkey.pem", pair.keyPem()));
    assertEquals(2, read.chain().size());
    assertEquals(pair.certificate(), read.chain().get(0));
  }

  /** Keys as openssl writes them: SEC1 EC, PKCS#1 RSA ("traditional"), PKCS#8. */
  @Test
  void readsTheKeyFormsOpensslWrites() throws Exception {
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ec.key");
    openssl("genrsa", "-traditional", "-out", "rsa.key", "2048");
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "pkcs8.key");
    for (String key : new String[] {"ec.key", "rsa.key", "pkcs8.key"}) {
      openssl("req", "-new", "-x509", "-key", key, "-subj", "/CN=example.com", "-days", "30", "-out", key + ".crt");
      PemKeyPair read = PemKeyPair.read(dir.resolve(key + ".crt"), dir.resolve(key));
      assertEquals("CN=example.com", read.chain().get(0).getSubjectX500Principal().getName(), key);
    }
    assertTrue(Files.readString(dir.resolve("ec.key")).startsWith("-----BEGIN EC PRIVATE KEY-----"));
    assertTrue(Files.readString(dir.resolve("rsa.key")).startsWith("-----BEGIN RSA PRIVATE KEY-----"));
    assertTrue(Files.readString(dir.resolve("pkcs8.key")).startsWith("-----BEGIN PRIVATE KEY-----"));
  }

  /** Runs openssl in the test directory (.ci/run installs it where it is missing). */
  private void openssl(String... args) throws Exception {
    Programs.requireOpenssl();
    java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of("openssl"));
    command.addAll(java.util.List.of(args));
    Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    assertEquals(0, process.waitFor(), String.join(" ", command) + ": " + output);
  }

  @Test
  void refusesTheKeyOfAnotherCertificateNamingBothFiles() throws Exception {
    SelfSigned other = SelfSigned.create("example.com", Duration.ofDays(30));
    Path cert = write("cert.pem", pair.certificatePem());
    Path key = write("key.pem", other.keyPem());
    IOException refused = assertThrows(IOException.class, () -> PemKeyPair.read(cert, key));
    assertTrue(refused.getMessage().contains(key.toString()) && refused.getMessage().contains(cert.toString()),
        refused.getMessage());
  }

  @Test
  void refusesFilesWithoutWhatTheyShouldHoldNamingTheFile() throws Exception {
    Path cert = write("cert.pem", pair.certificatePem());
    Path key = write("key.pem", pair.keyPem());
    Path empty = write("empty.pem", "");
    IOException noCert = assertThrows(IOException.class, () -> PemKeyPair.read(empty, key));
    assertTrue(noCert.getMessage().startsWith(empty + ": no PEM certificate"), noCert.getMessage());
    IOException noKey = assertThrows(IOException.class, () -> PemKeyPair.read(cert, cert));
    assertTrue(noKey.getMessage().startsWith(cert + ": no PEM private key"), noKey.getMessage());
    Path missing = dir.resolve("missing.pem");
    assertThrows(IOException.class, () -> PemKeyPair.read(cert, missing));
  }
}
