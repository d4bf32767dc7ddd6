package org.esmp.plugin.storage.postgres;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates and migrates the plugin's tables: the versioned SQL scripts under {@code db/} in this
 * jar, applied in order at start, each in a transaction of its own that records it in {@code
 * schema_version}. Several servers starting at once on one database take turns: the whole
 * migration runs under a session-level {@code pg_advisory_lock}.
 */
final class Schema {

  private static final Logger log = LoggerFactory.getLogger(Schema.class);

  /** The scripts, version n at index n - 1. Append only: a script once released never changes. */
  static final List<String> SCRIPTS = List.of("V1__schema.sql", "V2__live.sql");

  /** The advisory lock the migration runs under: "esmp-sch" in ASCII. */
  private static final long MIGRATION_LOCK = 0x65736d702d736368L;

  private Schema() {}

  /**
   * Brings the database's schema to {@link #SCRIPTS}' last version.
   *
   * @throws IllegalStateException when the database's schema is newer than this plugin knows (a
   *     newer server migrated it), or a script fails
   */
  static void migrate(DataSource database) throws SQLException {
    try (Connection connection = database.getConnection()) {
      connection.setAutoCommit(true);
      try (Statement statement = connection.createStatement()) {
        statement.execute("SELECT pg_advisory_lock(" + MIGRATION_LOCK + ")");
      }
      try {
        migrateLocked(connection);
      } finally {
        try (Statement statement = connection.createStatement()) {
          statement.execute("SELECT pg_advisory_unlock(" + MIGRATION_LOCK + ")");
        }
      }
    }
  }

  private static void migrateLocked(Connection connection) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      statement.execute("CREATE TABLE IF NOT EXISTS schema_version ("
          + " version integer PRIMARY KEY, script text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
    }
    int current = version(connection);
    if (current > SCRIPTS.size()) {
      throw new IllegalStateException("storage-postgres: the database's schema is version " + current
          + ", newer than this plugin knows (" + SCRIPTS.size() + "): a newer server migrated it");
    }
    connection.setAutoCommit(false);
    try {
      for (int version = current + 1; version <= SCRIPTS.size(); version++) {
        String script = SCRIPTS.get(version - 1);
        try (Statement statement = connection.createStatement()) {
          statement.execute(read(script));
        }
        try (PreparedStatement insert =
            connection.prepareStatement("INSERT INTO schema_version (version, script) VALUES (?, ?)")) {
          insert.setInt(1, version);
          insert.setString(2, script);
          insert.executeUpdate();
        }
        connection.commit();
        log.info("storage-postgres: applied schema script {}", script);
      }
    } catch (SQLException | RuntimeException e) {
      connection.rollback();
      throw e;
    } finally {
      connection.setAutoCommit(true);
    }
  }

  /** The newest version applied; 0 for a new database. */
  static int version(Connection connection) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery("SELECT coalesce(max(version), 0) FROM schema_version")) {
      rows.next();
      return rows.getInt(1);
    }
  }

  private static String read(String script) {
    try (InputStream in = Schema.class.getResourceAsStream("/db/" + script)) {
      if (in == null) {
        throw new IllegalStateException("storage-postgres: schema script db/" + script + " is missing from the jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
