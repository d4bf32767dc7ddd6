package org.esmp.server.tls;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * A certificate chain and its private key as read from PEM files: the chain as
 * {@code fullchain.pem} of Let's Encrypt has it (the server's own certificate first, then the
 * intermediates), the key in any of the usual PEM forms ({@code PRIVATE KEY}, {@code RSA PRIVATE
 * KEY}, {@code EC PRIVATE KEY}); RSA, EC and Ed25519 keys. Encrypted keys are refused: the server
 * starts unattended.
 *
 * @param chain the certificates, the server's own first
 * @param key the private key of {@code chain.get(0)}
 */
public record PemKeyPair(List<X509Certificate> chain, PrivateKey key) {

  public PemKeyPair {
    chain = List.copyOf(chain);
  }

  /**
   * Reads the pair and checks that the key belongs to the first certificate.
   *
   * @throws IOException naming the file that is missing, unreadable or not what it should be
   */
  public static PemKeyPair read(Path certFile, Path keyFile) throws IOException {
    List<X509Certificate> chain = readChain(certFile);
    PrivateKey key = readKey(keyFile);
    if (!matches(key, chain.get(0).getPublicKey())) {
      throw new IOException(keyFile + " is not the key of the first certificate in " + certFile);
    }
    return new PemKeyPair(chain, key);
  }

  private static List<X509Certificate> readChain(Path file) throws IOException {
    List<X509Certificate> chain = new ArrayList<>();
    JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
        PEMParser pem = new PEMParser(reader)) {
      for (Object item = pem.readObject(); item != null; item = pem.readObject()) {
        if (item instanceof X509CertificateHolder holder) {
          chain.add(converter.getCertificate(holder));
        }
      }
    } catch (CertificateException | RuntimeException e) {
      throw new IOException(file + ": not a PEM certificate chain: " + e.getMessage(), e);
    }
    if (chain.isEmpty()) {
      throw new IOException(file + ": no PEM certificate (-----BEGIN CERTIFICATE-----) in it");
    }
    return chain;
  }

  private static PrivateKey readKey(Path file) throws IOException {
    JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
        PEMParser pem = new PEMParser(reader)) {
      for (Object item = pem.readObject(); item != null; item = pem.readObject()) {
        if (item instanceof PrivateKeyInfo info) {
          return converter.getPrivateKey(info);
        }
        if (item instanceof PEMKeyPair pair) {
          return converter.getPrivateKey(pair.getPrivateKeyInfo()); // SEC1 or PKCS#1, public part optional
        }
        if (item.getClass().getSimpleName().contains("Encrypted")) {
          throw new IOException(file + ": the private key is encrypted; the server needs it unencrypted"
              + " (readable by its user only)");
        }
      }
    } catch (RuntimeException e) {
      throw new IOException(file + ": not a PEM private key: " + e.getMessage(), e);
    }
    throw new IOException(file + ": no PEM private key (-----BEGIN PRIVATE KEY----- or similar) in it");
  }

  /** Whether {@code key} signs what {@code publicKey} verifies: a test signature, any algorithm. */
  private static boolean matches(PrivateKey key, PublicKey publicKey) throws IOException {
    String algorithm = switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC", "ECDSA" -> "SHA256withECDSA";
      case "Ed25519", "EdDSA" -> "Ed25519";
      default -> throw new IOException("unsupported private key algorithm " + key.getAlgorithm()
          + " (RSA, EC or Ed25519)");
    };
    byte[] probe = "esmp tls key check".getBytes(StandardCharsets.US_ASCII);
    try {
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(publicKey);
      verifier.update(probe);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false; // e.g. an RSA key against an EC certificate
    }
  }
}
