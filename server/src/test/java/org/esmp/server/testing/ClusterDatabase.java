package org.esmp.server.testing;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.esmp.plugin.storage.postgres.TestPostgres;
import org.esmp.server.config.ServerConfig;

/**
 * The storage the integration tests' servers run on: storage-mapdb (their data directory) unless
 * the system property {@value #PROPERTY} is {@code postgres}; then storage-postgres on one real
 * PostgreSQL of the test JVM, a database of its own for each data directory (a server restarted on
 * the same directory finds its data again). So the single-server suite can run against a node of a
 * cluster (issue 16): {@code -Desmp.it.storage=postgres}.
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
    if (!enabled()) {
      return builder;
    }
    return builder.storage("postgres").pluginSetting(ServerConfig.POSTGRES_PLUGIN, "jdbc_url", url(data));
  }

  /** The {@code esmp.yaml} lines of the tests' storage, for a server in a child JVM on {@code data}. */
  public static String yaml(Path data) {
    return enabled() ? "storage: postgres\njdbc_url: \"" + url(data) + "\"\n" : "";
  }

  /** The JDBC URL of {@code data}'s database, made at its first use. */
  private static synchronized String url(Path data) {
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
