package org.esmp.plugin.storage.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The pools' connections wait a bounded time for a database that stopped answering, and give up a
 * silent host soon enough to try the next of a multi-host URL; what the operator's URL sets wins.
 */
class PoolTimeoutsTest {

  private static PGSimpleDataSource pooled(String url) {
    return PostgresStorage.pooled(Settings.from(Map.of("jdbc_url", url)));
  }

  @Test
  void aUrlWithoutTimeoutsGetsTheStoragesOwn() {
    PGSimpleDataSource database = pooled("jdbc:postgresql://db1:5432,db2:5432/esmp?targetServerType=primary");
    assertEquals(PostgresStorage.SOCKET_TIMEOUT_SECONDS, database.getSocketTimeout());
    assertEquals(PostgresStorage.CONNECT_TIMEOUT_SECONDS, database.getConnectTimeout());
    assertEquals("primary", database.getTargetServerType());
  }

  @Test
  void theUrlsOwnTimeoutsAreKept() {
    PGSimpleDataSource database = pooled("jdbc:postgresql://db1:5432/esmp?socketTimeout=120&connectTimeout=7");
    assertEquals(120, database.getSocketTimeout());
    assertEquals(7, database.getConnectTimeout());
  }

  @Test
  void aSocketTimeoutOfZeroInTheUrlMeansNoneAsTheOperatorAsked() {
    assertEquals(0, pooled("jdbc:postgresql://db1:5432/esmp?socketTimeout=0").getSocketTimeout());
  }
}
