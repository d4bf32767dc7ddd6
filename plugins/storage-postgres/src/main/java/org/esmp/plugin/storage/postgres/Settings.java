package org.esmp.plugin.storage.postgres;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * The operator's settings of this plugin ({@link org.esmp.api.ServerContext#settings()}), checked
 * once at start.
 *
 * @param jdbcUrl {@code jdbc_url}, required: a PostgreSQL JDBC URL; several hosts with {@code
 *     targetServerType=primary} follow a failover (the driver connects to whichever is primary). Its
 *     {@code socketTimeout} and {@code connectTimeout}, when it sets them, replace the pools' own
 *     ({@link PostgresStorage#pooled})
 * @param user {@code user}, if set (else the URL's, or the driver's default)
 * @param password the contents of the file {@code password_file} names, read once at start, its
 *     trailing line break dropped
 * @param poolSize {@code pool_size} (default {@value #DEFAULT_POOL_SIZE}): connections of each of
 *     the storage's two pools, one for commits (as many commit threads) and one for reads
 */
record Settings(String jdbcUrl, Optional<String> user, Optional<String> password, int poolSize) {

  static final int DEFAULT_POOL_SIZE = 10;

  /**
   * Reads and checks {@code settings}.
   *
   * @throws IllegalStateException naming the setting that is missing or wrong
   */
  static Settings from(Map<String, String> settings) {
    String url = settings.get("jdbc_url");
    if (url == null || url.isBlank()) {
      throw new IllegalStateException(
          "storage-postgres: the setting jdbc_url is required (jdbc_url in esmp.yaml, or --jdbc-url), such as "
              + "jdbc:postgresql://db1:5432,db2:5432/esmp?targetServerType=primary");
    }
    if (!url.startsWith("jdbc:postgresql:")) {
      throw new IllegalStateException("storage-postgres: jdbc_url must start with jdbc:postgresql:, got " + url);
    }
    int poolSize = DEFAULT_POOL_SIZE;
    String pool = settings.get("pool_size");
    if (pool != null) {
      try {
        poolSize = Integer.parseInt(pool.trim());
      } catch (NumberFormatException e) {
        poolSize = 0;
      }
      if (poolSize < 1 || poolSize > 1000) {
        throw new IllegalStateException("storage-postgres: pool_size must be a number from 1 to 1000, got " + pool);
      }
    }
    return new Settings(url, Optional.ofNullable(settings.get("user")), password(settings.get("password_file")), poolSize);
  }

  private static Optional<String> password(String file) {
    if (file == null) {
      return Optional.empty();
    }
    try {
      String text = Files.readString(Path.of(file), StandardCharsets.UTF_8);
      return Optional.of(text.endsWith("\r\n") ? text.substring(0, text.length() - 2)
          : text.endsWith("\n") ? text.substring(0, text.length() - 1) : text);
    } catch (IOException e) {
      throw new IllegalStateException("storage-postgres: cannot read password_file " + file + ": " + e, e);
    }
  }

  /** Without the password, for logs. */
  @Override
  public String toString() {
    return "Settings[jdbcUrl=" + jdbcUrl + ", user=" + user.orElse("(default)") + ", poolSize=" + poolSize + "]";
  }
}
