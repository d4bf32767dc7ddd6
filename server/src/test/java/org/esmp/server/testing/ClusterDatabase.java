package org.esmp.server.testing;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.esmp.plugin.storage.postgres.TestPostgres;
import org.esmp.server.config.ServerConfig;

/**
 * The storage the integration tests' servers run on: storage-mapdb (their data directory) unless
 * the system property {@value #PROPERTY} is {@code postgres}; then storage-postgres on one real
 * PostgreSQL of the test JVM, a database of its own for each data directory (a server restarted on
 * the same directory finds its data again). So the single-server suite can run against a node of a
 * cluster (issue 16): {@code -Desmp.it.storage=postgres}, which server/pom.xml sets for every IT with
 * {@code -Pcluster-conformance} and for a short set in every build (docs/CLUSTER.md).
 */
public final class ClusterDatabase {

  /** The system property naming the storage of the tests' servers. */
  public static final String PROPERTY = "esmp.it.storage";

  private static TestPostgres postgres;
  private static final Map<Path, String> databases = new ConcurrentHashMap<>();

  private ClusterDatabase() {}

  /** Whether the tests' servers run on PostgreSQL. */
  public static boolean enabled() {
    return "postgres".equals(System.getProperty(PROPERTY));
  }

  /** {@code builder} on the tests' storage, for a server on {@code data}. */
  public static ServerConfig.Builder on(ServerConfig.Builder builder, Path data) {
    return enabled() ? onPostgres(builder, data) : builder;
  }

  /**
   * {@code builder} on storage-postgres whatever the tests' storage, for a server on {@code data}:
   * for the tests of what this storage does differently (it refuses {@code esmp-admin backup}).
   */
  public static ServerConfig.Builder onPostgres(ServerConfig.Builder builder, Path data) {
    return builder.storage("postgres").pluginSetting(ServerConfig.POSTGRES_PLUGIN, "jdbc_url", jdbcUrl(data));
  }

  /**
   * The command-line flags of the tests' storage ({@code --storage postgres --jdbc-url URL}, or
   * none), for {@code esmp-server add-user} on {@code data}.
   */
  public static List<String> flags(Path data) {
    return enabled() ? List.of("--storage", "postgres", "--jdbc-url", jdbcUrl(data)) : List.of();
  }

  /**
   * Drops {@code data}'s database (made by {@link #jdbcUrl}), as an operator's mistake or a lost
   * database server would leave a server's configuration pointing at nothing.
   */
  public static synchronized void dropDatabase(Path data) throws SQLException {
    String database = databases.remove(data.toAbsolutePath().normalize());
    if (database == null) {
      throw new IllegalStateException("no database for " + data);
    }
    try (Connection connection = DriverManager.getConnection(postgres.url("postgres"));
        Statement statement = connection.createStatement()) {
      statement.execute("DROP DATABASE " + database + " WITH (FORCE)");
    }
  }

  /** The id of the storage plugin the tests' servers run: storage-postgres or storage-mapdb. */
  public static String storagePlugin() {
    return enabled() ? ServerConfig.POSTGRES_PLUGIN : "storage-mapdb";
  }

  /** The file name of that plugin's jar in {@link TestServers#pluginsDir}. */
  public static String storageJar() {
    return "esmp-" + storagePlugin() + ".jar";
  }

  /** The {@code esmp.yaml} lines of the tests' storage, for a server in a child JVM on {@code data}. */
  public static String yaml(Path data) {
    return enabled() ? "storage: postgres\njdbc_url: \"" + jdbcUrl(data) + "\"\n" : "";
  }

  /**
   * The JDBC URL of {@code data}'s database on the tests' PostgreSQL (started at the first call),
   * made at its first use; as user postgres, who may read every table.
   */
  public static synchronized String jdbcUrl(Path data) {
    try {
      if (postgres == null) {
        postgres = TestPostgres.start();
        TestPostgres started = postgres;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
          try {
            started.close();
          } catch (Exception ignored) {
            // the JVM ends
          }
        }));
      }
      String database = databases.get(data.toAbsolutePath().normalize());
      if (database == null) {
        database = postgres.createDatabase();
        databases.put(data.toAbsolutePath().normalize(), database);
      }
      return postgres.url(database);
    } catch (Exception e) {
      throw new IllegalStateException("cannot start the tests' PostgreSQL: " + e.getMessage(), e);
    }
  }
}
