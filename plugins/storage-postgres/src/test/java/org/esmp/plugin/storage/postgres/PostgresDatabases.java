package org.esmp.plugin.storage.postgres;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.esmp.api.testkit.TestContext;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The storage tests' PostgreSQL, as a JUnit extension: one {@link TestPostgres} for the test class
 * ({@code @RegisterExtension static}), a fresh database for each test ({@link #url()}), and the
 * storages a test opens on it ({@link #open}) closed after the test.
 */
final class PostgresDatabases implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback {

  private TestPostgres postgres;
  private String url;
  private final List<PostgresStorage> opened = new ArrayList<>();

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    postgres = TestPostgres.start();
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    postgres.close();
  }

  @Override
  public void beforeEach(ExtensionContext context) throws Exception {
    url = postgres.url(postgres.createDatabase());
  }

  @Override
  public void afterEach(ExtensionContext context) {
    opened.forEach(PostgresStorage::close);
    opened.clear();
  }

  /** The class's PostgreSQL server. */
  TestPostgres postgres() {
    return postgres;
  }

  /** The JDBC URL of this test's database. */
  String url() {
    return url;
  }

  /** The number the first column of the first row of {@code sql} holds, on this test's database. */
  long count(String sql) throws SQLException {
    try (Connection connection = DriverManager.getConnection(url);
        Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery(sql)) {
      rows.next();
      return rows.getLong(1);
    }
  }

  /** Runs {@code sql} on this test's database. */
  void execute(String sql) throws SQLException {
    try (Connection connection = DriverManager.getConnection(url);
        Statement statement = connection.createStatement()) {
      statement.execute(sql);
    }
  }

  /** A storage on this test's database with a pool of {@code poolSize}; closed after the test. */
  PostgresStorage open(int poolSize) {
    return open(Map.of("jdbc_url", url, "pool_size", Integer.toString(poolSize)));
  }

  /** A storage with {@code settings}; closed after the test. */
  PostgresStorage open(Map<String, String> settings) {
    PostgresStorage storage = new PostgresStorage(TestContext.builder("storage-postgres").settings(settings).build());
    opened.add(storage);
    return storage;
  }
}
