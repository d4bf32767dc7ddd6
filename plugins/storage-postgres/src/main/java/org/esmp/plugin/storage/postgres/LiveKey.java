package org.esmp.plugin.storage.postgres;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.Optional;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import javax.sql.DataSource;

/**
 * Seals what the servers send each other on {@value Live#CHANNEL}: AES-256-GCM under the cluster's
 * key (the table {@code live_key}, made by the first server to start), the sending storage's node
 * id authenticated with it. PostgreSQL lets any role that may connect to the database {@code
 * LISTEN} and {@code NOTIFY} on any channel; sealed, what crosses it can be read or forged only by
 * the roles that can read that table, those that can read the messages anyway. Thread-safe: a
 * {@link Cipher} per call.
 */
final class LiveKey {

  private static final int IV_BYTES = 12;
  private static final int TAG_BITS = 128;
  /** What sealing adds to the bytes sealed: the nonce and the tag. */
  static final int OVERHEAD = IV_BYTES + TAG_BITS / 8;

  private final SecretKeySpec key;
  private final SecureRandom random = new SecureRandom();

  LiveKey(byte[] key) {
    if (key.length != 32) {
      throw new IllegalArgumentException("an AES-256 key has 32 bytes, not " + key.length);
    }
    this.key = new SecretKeySpec(key, "AES");
  }

  /** The cluster's key: made and stored if the database has none yet (servers starting at once agree). */
  static LiveKey of(DataSource database) throws SQLException {
    byte[] fresh = new byte[32];
    new SecureRandom().nextBytes(fresh);
    try (Connection connection = database.getConnection()) {
      connection.setAutoCommit(true);
      try (PreparedStatement insert =
          connection.prepareStatement("INSERT INTO live_key (id, key) VALUES (1, ?) ON CONFLICT (id) DO NOTHING")) {
        insert.setBytes(1, fresh);
        insert.executeUpdate();
      }
      try (PreparedStatement select = connection.prepareStatement("SELECT key FROM live_key WHERE id = 1");
          ResultSet rows = select.executeQuery()) {
        if (!rows.next()) {
          throw new IllegalStateException("storage-postgres: the table live_key is empty after an insert");
        }
        return new LiveKey(rows.getBytes(1));
      }
    } finally {
      Arrays.fill(fresh, (byte) 0);
    }
  }

  /** {@code plain} sealed by {@code node}: a random nonce, then the ciphertext and its tag. */
  byte[] seal(String node, byte[] plain) {
    byte[] iv = new byte[IV_BYTES];
    random.nextBytes(iv);
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, iv));
      cipher.updateAAD(node.getBytes(StandardCharsets.US_ASCII));
      byte[] sealed = new byte[IV_BYTES + cipher.getOutputSize(plain.length)];
      System.arraycopy(iv, 0, sealed, 0, IV_BYTES);
      cipher.doFinal(plain, 0, plain.length, sealed, IV_BYTES);
      return sealed;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("storage-postgres: AES-GCM is not available: " + e, e);
    }
  }

  /** What {@code node} sealed; empty when {@code sealed} was not sealed by {@code node} under this key. */
  Optional<byte[]> open(String node, byte[] sealed) {
    if (sealed.length < OVERHEAD) {
      return Optional.empty();
    }
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, sealed, 0, IV_BYTES));
      cipher.updateAAD(node.getBytes(StandardCharsets.US_ASCII));
      return Optional.of(cipher.doFinal(sealed, IV_BYTES, sealed.length - IV_BYTES));
    } catch (javax.crypto.AEADBadTagException forged) {
      return Optional.empty();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("storage-postgres: AES-GCM is not available: " + e, e);
    }
  }
}
