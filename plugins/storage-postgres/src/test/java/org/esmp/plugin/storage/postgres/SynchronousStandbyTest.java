package org.esmp.plugin.storage.postgres;

import static org.esmp.api.testkit.StorageFixtures.ack;
import static org.esmp.api.testkit.StorageFixtures.address;
import static org.esmp.api.testkit.StorageFixtures.delivery;
import static org.esmp.api.testkit.StorageFixtures.id;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.esmp.api.Address;
import org.esmp.api.DuplicateException;
import org.esmp.api.json.JsonObject;
import org.esmp.api.testkit.TestContext;
import org.junit.jupiter.api.Test;

/**
 * With a synchronous standby, a commit whose wait for the standby is cancelled (an operator's
 * {@code pg_cancel_backend}) stays committed on the primary alone, visible to every session, and
 * PostgreSQL says so in a warning only. Such a commit is not acknowledged as durable, and an answer
 * read from its record ("already accepted") is not given before the standby has it: a failover
 * right then would lose the message the answer vouches for.
 */
class SynchronousStandbyTest {

  private static final Address ALICE = address("alice");
  private static final Address BOB = address("bob");

  @Test
  void aRecordVisibleBeforeTheStandbyHasItAnswersNoResendUntilItDoes() throws Exception {
    try (TestPostgresReplication postgres = TestPostgresReplication.start()) {
      String database = postgres.createDatabase();
      PostgresStorage one = new PostgresStorage(TestContext.builder("storage-postgres")
          .settings(Map.of("jdbc_url", postgres.url(database), "pool_size", "4")).build());
      PostgresStorage two = new PostgresStorage(TestContext.builder("storage-postgres")
          .settings(Map.of("jdbc_url", postgres.url(database), "pool_size", "4")).build());
      try {
        assertEquals(List.of(1L), one.commit(delivery("before", 1, ALICE, BOB)).toCompletableFuture().get(30, TimeUnit.SECONDS));

        postgres.pauseStandby();
        CompletableFuture<List<Long>> first;
        CompletableFuture<Optional<JsonObject>> read;
        CompletableFuture<List<Long>> resent;
        try {
          first = one.commit(delivery("m", 2, ALICE, BOB)).toCompletableFuture();
          // Its commit waits for the standby; an operator cancels the wait: PostgreSQL then
          // commits on the primary alone, visible to all, and says so in a warning only.
          cancelSyncRepWait(postgres.url(database));
          ExecutionException unknown = assertThrows(ExecutionException.class, () -> first.get(30, TimeUnit.SECONDS));
          assertTrue(unknown.getCause().getMessage().contains("outcome is unknown"), unknown.getCause().getMessage());
          awaitVisible(postgres.url(database), "m");
          // A resend, through the other server: read as accepted, and as a change (a duplicate).
          // Neither may answer before the standby has the record.
          read = CompletableFuture.supplyAsync(() -> two.acceptedAnswer(id("m")));
          resent = two.commit(delivery("m", 3, ALICE, BOB)).toCompletableFuture();
          Thread.sleep(1_000);
          assertFalse(read.isDone(), "answered from a record the standby does not have yet: " + read);
          assertFalse(resent.isDone(), "answered a duplicate the standby does not have yet: " + resent);
        } finally {
          postgres.resumeStandby();
        }
        assertEquals(Optional.of(ack("m")), read.get(30, TimeUnit.SECONDS));
        ExecutionException duplicate = assertThrows(ExecutionException.class, () -> resent.get(30, TimeUnit.SECONDS));
        assertEquals(ack("m"), assertInstanceOf(DuplicateException.class, duplicate.getCause()).answer());
      } finally {
        one.close();
        two.close();
      }
    }
  }

  /** Cancels the wait for the standby of the one backend waiting for it. */
  private static void cancelSyncRepWait(String url) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    try (Connection connection = DriverManager.getConnection(url);
        PreparedStatement cancel = connection.prepareStatement(
            "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE wait_event = 'SyncRep'")) {
      while (true) {
        try (ResultSet rows = cancel.executeQuery()) {
          if (rows.next()) {
            return;
          }
        }
        if (System.nanoTime() > deadline) {
          throw new AssertionError("no commit waits for the standby");
        }
        Thread.sleep(20);
      }
    }
  }

  /** Waits until another session sees message {@code name} recorded as accepted. */
  private static void awaitVisible(String url, String name) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    try (Connection connection = DriverManager.getConnection(url);
        PreparedStatement select = connection.prepareStatement("SELECT 1 FROM accepted WHERE id = ?")) {
      select.setBytes(1, Keys.id(id(name)));
      while (true) {
        try (ResultSet rows = select.executeQuery()) {
          if (rows.next()) {
            return;
          }
        }
        if (System.nanoTime() > deadline) {
          throw new AssertionError("message " + name + " never became visible");
        }
        Thread.sleep(20);
      }
    }
  }
}
