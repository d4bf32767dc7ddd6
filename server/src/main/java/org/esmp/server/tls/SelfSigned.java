package org.esmp.server.tls;

import java.io.IOException;
import java.io.StringWriter;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemObject;
import org.esmp.server.data.OwnerOnly;

/**
 * Makes a self-signed certificate and its key for local use and tests: an EC P-256 key, valid for
 * the domain and for {@code localhost}, 127.0.0.1 and ::1, for {@code validity}. Clients trust it
 * by its fingerprint ({@code esmp --tls-pin}) or as their own CA file ({@code esmp --tls-ca}).
 *
 * @param certificate the certificate
 * @param certificatePem it in PEM
 * @param keyPem its private key in PEM (PKCS#8)
 */
public record SelfSigned(X509Certificate certificate, String certificatePem, String keyPem) {

  /** How long a self-signed certificate is valid by default. */
  public static final Duration DEFAULT_VALIDITY = Duration.ofDays(365);

  /** Makes a pair for {@code domain}, valid from a minute ago (clock skew) for {@code validity}. */
  public static SelfSigned create(String domain, Duration validity) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      KeyPair keys = generator.generateKeyPair();
      X500Name name = new X500Name("CN=" + domain);
      Instant now = Instant.now();
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name,
          new BigInteger(127, new SecureRandom()), Date.from(now.minusSeconds(60)),
          Date.from(now.plus(validity)), name, keys.getPublic());
      List<GeneralName> names = new ArrayList<>();
      names.add(new GeneralName(GeneralName.dNSName, domain));
      if (!domain.equals("localhost")) {
        names.add(new GeneralName(GeneralName.dNSName, "localhost"));
      }
      names.add(new GeneralName(GeneralName.iPAddress, "127.0.0.1"));
      names.add(new GeneralName(GeneralName.iPAddress, "::1"));
      builder.addExtension(Extension.subjectAlternativeName, false,
          new GeneralNames(names.toArray(GeneralName[]::new)));
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
      X509Certificate certificate = new JcaX509CertificateConverter().getCertificate(
          builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
      return new SelfSigned(certificate, pem(certificate), pem(new PemObject("PRIVATE KEY", keys.getPrivate().getEncoded())));
    } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
      throw new IllegalStateException("cannot make a self-signed certificate: " + e.getMessage(), e);
    }
  }

  /**
   * Writes the certificate to {@code certFile} and the key to {@code keyFile} (owner-only); neither
   * may exist yet.
   *
   * @throws java.nio.file.FileAlreadyExistsException when one does
   */
  public void write(Path certFile, Path keyFile) throws IOException {
    for (Path file : List.of(certFile, keyFile)) {
      if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
        throw new FileAlreadyExistsException(file.toString(), null, "not overwriting it");
      }
    }
    // Created owner-only before a byte of the key is in it.
    Files.createFile(keyFile, OwnerOnly.file(keyFile));
    Files.writeString(keyFile, keyPem, StandardCharsets.US_ASCII);
    Files.writeString(certFile, certificatePem, StandardCharsets.US_ASCII, StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE);
  }

  /** The certificate's SHA-256 fingerprint, as {@code esmp --tls-pin} takes it. */
  public String fingerprint() {
    return ServerTls.fingerprint(certificate);
  }

  private static String pem(Object item) throws IOException {
    Writer text = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
      writer.writeObject(item);
    }
    return text.toString();
  }
}
