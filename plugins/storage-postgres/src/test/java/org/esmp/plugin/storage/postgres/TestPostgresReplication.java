package org.esmp.plugin.storage.postgres;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A primary PostgreSQL and one <b>synchronous</b> streaming-replication standby, both {@link
 * TestPostgres} servers of zonky's binaries (which have no {@code pg_basebackup}): the primary's
 * data directory, fresh from {@code initdb} and cleanly shut down, is copied for the standby, which
 * starts with {@code standby.signal} and a {@code primary_conninfo} naming it {@value #STANDBY}; the
 * primary waits for that standby's flush at each commit ({@code synchronous_standby_names}, {@code
 * synchronous_commit=on}), so what it acknowledged is on both. {@link #start} returns once the
 * primary reports the standby {@code streaming} and {@code sync} in {@code pg_stat_replication}.
 * For failover tests: {@link #killPrimary}, {@link #promoteStandby}, and {@link #url} lists both
 * hosts with {@code targetServerType=primary}.
 */
public final class TestPostgresReplication implements AutoCloseable {

  /** The standby's {@code application_name}, which the primary's {@code synchronous_standby_names} names. */
  static final String STANDBY = "esmp_standby";

  private final TestPostgres primary;
  private final TestPostgres standby;

  private TestPostgresReplication(TestPostgres primary, TestPostgres standby) {
    this.primary = primary;
    this.standby = standby;
  }

  /** Starts both; returns once the standby streams synchronously. */
  public static TestPostgresReplication start() throws Exception {
    // The WAL from initdb's checkpoint on is kept for the standby, which starts from that checkpoint.
    TestPostgres primary = TestPostgres.initialized(List.of(
        "synchronous_standby_names=" + STANDBY, "wal_level=replica", "max_wal_senders=4", "wal_keep_size=256MB"));
    TestPostgres standby = null;
    try {
      standby = primary.copy(List.of("hot_standby=on",
          "primary_conninfo=host=127.0.0.1 port=" + primary.port() + " user=postgres application_name=" + STANDBY));
      standby.writeDataFile("standby.signal", "");
      primary.restart();
      standby.restart();
      TestPostgresReplication pair = new TestPostgresReplication(primary, standby);
      pair.awaitSynchronous();
      return pair;
    } catch (Exception | Error e) {
      primary.close();
      if (standby != null) {
        standby.close();
      }
      throw e;
    }
  }

  private void awaitSynchronous() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    String state = "";
    while (System.nanoTime() < deadline) {
      state = replicationState();
      if (state.equals(STANDBY + " streaming sync")) {
        return;
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException("the standby is not a synchronous one: pg_stat_replication says '" + state
        + "'\n--- primary ---\n" + primary.log() + "\n--- standby ---\n" + standby.log());
  }

  /** The primary's {@code pg_stat_replication}: {@code application_name state sync_state} per standby. */
  public String replicationState() throws SQLException {
    StringBuilder state = new StringBuilder();
    try (Connection connection = DriverManager.getConnection(primary.url("postgres"));
        Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery(
            "SELECT application_name, state, sync_state FROM pg_stat_replication ORDER BY application_name")) {
      while (rows.next()) {
        state.append(state.length() > 0 ? "; " : "").append(rows.getString(1)).append(' ').append(rows.getString(2))
            .append(' ').append(rows.getString(3));
      }
    }
    return state.toString();
  }

  /**
   * A JDBC URL of {@code database} naming both servers, primary first, with {@code
   * targetServerType=primary}: the driver connects to whichever of them is primary.
   */
  public String url(String database) {
    return "jdbc:postgresql://127.0.0.1:" + primary.port() + ",127.0.0.1:" + standby.port() + "/" + database
        + "?user=postgres&targetServerType=primary";
  }

  /** Creates an empty database on the primary (and so on the standby) and returns its name. */
  public String createDatabase() throws SQLException {
    return primary.createDatabase();
  }

  /** A JDBC URL of {@code database} on the standby alone. */
  public String standbyUrl(String database) {
    return standby.url(database);
  }

  /** Kills the primary and every process of it with SIGKILL ({@link TestPostgres#kill}). */
  public void killPrimary() throws Exception {
    primary.kill();
  }

  /** Promotes the standby; returns once it is the primary, accepting writes. */
  public void promoteStandby() throws Exception {
    standby.promote();
  }

  /** Freezes the standby (SIGSTOP): the primary's commits wait for it. */
  public void pauseStandby() throws Exception {
    standby.pause();
  }

  /** Lets the standby go on; the commits waiting for it complete. */
  public void resumeStandby() throws Exception {
    standby.resume();
  }

  /** What both servers logged, for failure messages. */
  public String logs() {
    return "\n--- primary ---\n" + primary.log() + "\n--- standby ---\n" + standby.log();
  }

  /** Stops both and deletes their files. */
  @Override
  public void close() throws Exception {
    try {
      primary.close();
    } finally {
      standby.close();
    }
  }
}
