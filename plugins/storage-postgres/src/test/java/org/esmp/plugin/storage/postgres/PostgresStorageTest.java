package org.esmp.plugin.storage.postgres;

import static org.esmp.api.testkit.StorageFixtures.ack;
import static org.esmp.api.testkit.StorageFixtures.address;
import static org.esmp.api.testkit.StorageFixtures.delivery;
import static org.esmp.api.testkit.StorageFixtures.entry;
import static org.esmp.api.testkit.StorageFixtures.id;
import static org.esmp.api.testkit.StorageFixtures.key;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.esmp.api.Address;
import org.esmp.api.ConflictException;
import org.esmp.api.DuplicateException;
import org.esmp.api.MailboxEntry;
import org.esmp.api.StorageFailedException;
import org.esmp.api.Stored;
import org.esmp.api.spi.StorageChange;
import org.esmp.api.testkit.StorageFixtures;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The storage SPI's contract, against a real PostgreSQL: one server for the class, a database per test. */
class PostgresStorageTest {

  private static final Address ALICE = address("alice");
  private static final Address BOB = address("bob");
  private static final Address CAROL = address("carol");

  @RegisterExtension static final PostgresDatabases databases = new PostgresDatabases();
  private String url;

  @BeforeEach
  void freshDatabase() {
    url = databases.url();
  }

  private PostgresStorage open() {
    return databases.open(4);
  }

  private PostgresStorage open(Map<String, String> settings) {
    return databases.open(settings);
  }

  static <T> T await(java.util.concurrent.CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  static Throwable failure(java.util.concurrent.CompletionStage<?> stage) throws Exception {
    ExecutionException e = assertThrows(ExecutionException.class, () -> await(stage));
    return e.getCause();
  }

  @Test
  void readsBackWhatWasCommitted() throws Exception {
    PostgresStorage storage = open();
    MailboxEntry group =
        new MailboxEntry(0, id("g1"), ALICE, 2000, StorageFixtures.message("g1", 100), Optional.of("g-1"), OptionalLong.of(7));
    List<Long> cursors = await(storage.commit(StorageChange.builder()
        .bindKey(ALICE, key("alice-1"))
        .accept(id("m1"), 1000, ack("m1"))
        .append(BOB, entry("m1", ALICE, 1000))
        .append(CAROL, entry("m1", ALICE, 1000))
        .append(BOB, group)
        .build()));

    assertEquals(List.of(1L, 1L, 2L), cursors);
    assertEquals(Optional.of(ALICE), storage.addressOf(key("alice-1")));
    assertEquals(Optional.empty(), storage.addressOf(key("nobody")));
    assertEquals(List.of(key("alice-1")), storage.keysOf(ALICE));
    assertEquals(List.of(), storage.keysOf(BOB));
    assertEquals(Optional.of(ack("m1")), storage.acceptedAnswer(id("m1")));
    assertEquals(Optional.empty(), storage.acceptedAnswer(id("m2")));
    assertEquals(2, storage.lastCursor(BOB));
    assertEquals(0, storage.lastCursor(ALICE));
    assertEquals(List.of(entry("m1", ALICE, 1000).withCursor(1), group.withCursor(2)), storage.readMailbox(BOB, 0, 10));
    assertEquals(List.of(group.withCursor(2)), storage.readMailbox(BOB, 1, 10));
    assertEquals(List.of(entry("m1", ALICE, 1000).withCursor(1)), storage.readMailbox(BOB, 0, 1));
    assertEquals(List.of(), storage.readMailbox(BOB, 2, 10));
    assertEquals(List.of(), storage.readMailbox(BOB, 0, 0));
    assertEquals(List.of(), storage.readMailbox(ALICE, 0, 10));
  }

  @Test
  void cursorsAreGaplessPerAddressAcrossReopen() throws Exception {
    PostgresStorage storage = open();
    for (int i = 1; i <= 5; i++) {
      assertEquals(List.of((long) i), await(storage.commit(delivery("a" + i, i, ALICE, BOB))));
    }
    assertEquals(List.of(1L, 6L), await(storage.commit(delivery("b1", 6, ALICE, CAROL, BOB))));
    storage.close();

    PostgresStorage reopened = open();
    assertEquals(6, reopened.lastCursor(BOB));
    assertEquals(List.of(7L, 2L), await(reopened.commit(delivery("b2", 7, ALICE, BOB, CAROL))));
    assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L),
        reopened.readMailbox(BOB, 0, 100).stream().map(MailboxEntry::cursor).toList());
  }

  @Test
  void pluginValuesCommitAtomicallyWithTheRest() throws Exception {
    PostgresStorage storage = open();
    await(storage.commit(StorageChange.builder().put("threads", "g/2", new byte[] {2}).put("threads", "g/1", new byte[] {1})
        .put("groups", "g", new byte[] {9}).accept(id("m1"), 1000, ack("m1")).build()));
    await(storage.commit(StorageChange.builder().delete("threads", "g/1").put("threads", "g/3", new byte[] {3})
        .delete("threads", "absent").build()));

    assertEquals(List.of("g/2", "g/3"), storage.scan("threads", "g/", "g0", 10).stream().map(Stored::key).toList());
    assertEquals(List.of("g/2"), storage.scan("threads", "g/", "g0", 1).stream().map(Stored::key).toList());
    assertEquals(List.of(), storage.scan("threads", "g0", "g/", 10));
    assertArrayEquals(new byte[] {9}, storage.get("groups", "g").orElseThrow());
    assertTrue(storage.get("threads", "g/1").isEmpty());
    assertTrue(storage.get("other", "g").isEmpty());

    // A put and a delete of one key in one change: deletes apply before puts.
    await(storage.commit(StorageChange.builder().put("groups", "g", new byte[] {10}).delete("groups", "g").build()));
    assertArrayEquals(new byte[] {10}, storage.get("groups", "g").orElseThrow());
  }

  @Test
  void keysOrderAsStringCompareToBeyondAscii() throws Exception {
    PostgresStorage storage = open();
    // UTF-8 (COLLATE "C") would put U+E000 before the emoji (U+1F600); String.compareTo puts the
    // emoji's high surrogate (U+D83D) first. And a lone surrogate survives.
    List<String> keys = new ArrayList<>(List.of("a", "b", "é", "z", "\uE000", "\uD83D\uDE00", "\uFFFF", "\uD800", "ab", "A"));
    StorageChange.Builder change = StorageChange.builder();
    keys.forEach(k -> change.put("s", k, k.getBytes(java.nio.charset.StandardCharsets.UTF_16BE)));
    await(storage.commit(change.build()));
    keys.sort(String::compareTo);

    assertEquals(keys, storage.scan("s", "", "\uFFFF\uFFFF", 100).stream().map(Stored::key).toList());
    assertEquals(List.of("\uD800", "\uD83D\uDE00", "\uE000"),
        storage.scan("s", "\uD800", "\uFFFF", 100).stream().map(Stored::key).toList());
    assertTrue(storage.get("s", "\uD800").isPresent());
  }

  @Test
  void expectationsRefuseTheWholeChangeWithConflict() throws Exception {
    PostgresStorage storage = open();
    await(storage.commit(StorageChange.builder().put("p", "k", new byte[] {1}).build()));

    // Compare-and-set: the right bytes win, stale ones lose.
    await(storage.commit(StorageChange.builder().expect("p", "k", new byte[] {1}).put("p", "k", new byte[] {2}).build()));
    Throwable stale = failure(storage.commit(StorageChange.builder().expect("p", "k", new byte[] {1})
        .put("p", "k", new byte[] {3}).append(BOB, entry("x", ALICE, 1)).accept(id("x"), 1, ack("x")).build()));
    assertInstanceOf(ConflictException.class, stale);
    assertArrayEquals(new byte[] {2}, storage.get("p", "k").orElseThrow());
    assertEquals(0, storage.lastCursor(BOB));
    assertEquals(Optional.empty(), storage.acceptedAnswer(id("x")));

    // Insert-if-absent.
    assertInstanceOf(ConflictException.class, failure(storage.commit(
        StorageChange.builder().expectAbsent("p", "k").put("p", "k", new byte[] {4}).build())));
    await(storage.commit(StorageChange.builder().expectAbsent("p", "new").put("p", "new", new byte[] {5}).build()));
    assertInstanceOf(ConflictException.class, failure(storage.commit(
        StorageChange.builder().expect("p", "gone", new byte[] {1}).build())));

    // A kept entry is a value that equals no bytes: neither absent nor any value.
    await(storage.commit(StorageChange.builder().keep("p", "entry", entry("e", ALICE, 1)).build()));
    assertInstanceOf(ConflictException.class, failure(storage.commit(StorageChange.builder().expectAbsent("p", "entry").build())));
    assertInstanceOf(ConflictException.class, failure(storage.commit(
        StorageChange.builder().expect("p", "entry", new byte[0]).build())));
  }

  @Test
  void changesWaitingCommitTogetherInOrderAndAFailedConditionFailsOnlyItsOwn() throws Exception {
    PostgresStorage storage = open();
    List<CompletableFuture<List<Long>>> stages = new ArrayList<>();
    try (Connection holder = DriverManager.getConnection(url)) {
      // Holds the lock of the first change's key: the commit thread waits in it while the others
      // queue behind, then takes them all in one transaction.
      holder.setAutoCommit(false);
      try (Statement lock = holder.createStatement()) {
        lock.execute("SELECT pg_advisory_xact_lock(" + Keys.valueLock("p", "n") + ")");
      }
      stages.add(storage.commit(StorageChange.builder().expectAbsent("p", "n").put("p", "n", new byte[] {0})
          .accept(id("m0"), 1, ack("m0")).append(BOB, entry("m0", ALICE, 1)).build()).toCompletableFuture());
      Thread.sleep(200);
      for (int i = 1; i < 100; i++) {
        StorageChange.Builder change = StorageChange.builder()
            // Each builds on the one before: a compare-and-set of the counter, as a group's next post is.
            .expect("p", "n", new byte[] {(byte) (i - 1)}).put("p", "n", new byte[] {(byte) i})
            .accept(id("m" + i), i, ack("m" + i)).append(BOB, entry("m" + i, ALICE, i));
        if (i == 40) {
          change = StorageChange.builder().expect("p", "n", new byte[] {99}).put("p", "n", new byte[] {40})
              .accept(id("stale"), i, ack("stale")).append(BOB, entry("stale", ALICE, i)).append(CAROL, entry("stale", ALICE, i));
        }
        if (i == 41) {
          // after the stale change, the counter is still 39
          change = StorageChange.builder().expect("p", "n", new byte[] {39}).put("p", "n", new byte[] {41})
              .accept(id("m41"), i, ack("m41")).append(BOB, entry("m41", ALICE, i));
        }
        if (i == 60) {
          // a message accepted earlier in the same transaction
          change = StorageChange.builder().accept(id("m10"), i, ack("again")).append(CAROL, entry("m10", ALICE, i));
        }
        stages.add(storage.commit(change.build()).toCompletableFuture());
      }
      holder.rollback();
    }

    long cursor = 0;
    for (int i = 0; i < 100; i++) {
      if (i == 40) {
        assertInstanceOf(ConflictException.class, failure(stages.get(i)));
      } else if (i == 60) {
        assertEquals(ack("m10"), assertInstanceOf(DuplicateException.class, failure(stages.get(i))).answer());
      } else if (i > 60) {
        // the put of 60 was skipped: 61 expects 59, which it is not
        assertInstanceOf(ConflictException.class, failure(stages.get(i)), "change " + i);
      } else {
        assertEquals(List.of(++cursor), await(stages.get(i)), "change " + i);
      }
    }
    assertEquals(59, cursor);
    assertEquals(59, storage.lastCursor(BOB));
    assertEquals(0, storage.lastCursor(CAROL));
    assertArrayEquals(new byte[] {59}, storage.get("p", "n").orElseThrow());
    assertEquals(Optional.empty(), storage.acceptedAnswer(id("stale")));
    assertEquals(Optional.of(ack("m41")), storage.acceptedAnswer(id("m41")));
    // The first change alone, then the 99 waiting behind it in one transaction.
    assertEquals(2, databases.count("SELECT count(DISTINCT xmin::text) FROM mailbox_entries"));
  }

  @Test
  void keyConditionsAreChecked() throws Exception {
    PostgresStorage storage = open();
    await(storage.commit(StorageChange.builder().expectKeys(ALICE, List.of()).bindKey(ALICE, key("a1")).build()));
    await(storage.commit(StorageChange.builder().expectKeys(ALICE, List.of(key("a1"))).bindKey(ALICE, key("a2"))
        .bindKey(ALICE, key("a1")).build()));
    assertEquals(List.of(key("a1"), key("a2")), storage.keysOf(ALICE));

    assertInstanceOf(ConflictException.class, failure(storage.commit(
        StorageChange.builder().expectKeys(ALICE, List.of(key("a1"))).bindKey(ALICE, key("a3")).build())));
    assertInstanceOf(ConflictException.class, failure(storage.commit(
        StorageChange.builder().expectKeys(ALICE, List.of()).bindKey(ALICE, key("a3")).build())));
    // A key belongs to one address at most ...
    assertInstanceOf(ConflictException.class, failure(storage.commit(
        StorageChange.builder().bindKey(BOB, key("a1")).build())));
    assertEquals(List.of(), storage.keysOf(BOB));
    // ... but one change may move it.
    await(storage.commit(StorageChange.builder().unbindKey(ALICE, key("a1")).bindKey(BOB, key("a1")).build()));
    assertEquals(List.of(key("a2")), storage.keysOf(ALICE));
    assertEquals(Optional.of(BOB), storage.addressOf(key("a1")));
    await(storage.commit(StorageChange.builder().unbindKey(ALICE, key("a2")).build()));
    assertEquals(List.of(), storage.keysOf(ALICE));
    assertEquals(Optional.empty(), storage.addressOf(key("a2")));
  }

  @Test
  void aSecondAcceptanceFailsWithTheRecordedAnswerAndAppliesNothing() throws Exception {
    PostgresStorage storage = open();
    await(storage.commit(delivery("m", 1000, ALICE, BOB)));
    Throwable second = failure(storage.commit(StorageChange.builder().accept(id("m"), 2000, ack("other"))
        .append(CAROL, entry("m", ALICE, 2000)).put("p", "k", new byte[] {1}).build()));

    DuplicateException duplicate = assertInstanceOf(DuplicateException.class, second);
    assertEquals(ack("m"), duplicate.answer());
    assertEquals(0, storage.lastCursor(CAROL));
    assertTrue(storage.get("p", "k").isEmpty());
    assertEquals(Optional.of(ack("m")), storage.acceptedAnswer(id("m")));
  }

  @Test
  void aMessageOfSeveralEntriesIsStoredOnceAndGoesWithItsLastEntry() throws Exception {
    PostgresStorage storage = open();
    MailboxEntry post =
        new MailboxEntry(0, id("g1"), ALICE, 1000, StorageFixtures.message("g1", 2000), Optional.of("g"), OptionalLong.of(1));
    await(storage.commit(StorageChange.builder().keep("thread", "g/1", post)
        .append(ALICE, post).append(BOB, post).append(CAROL, post).build()));

    assertEquals(1, databases.count("SELECT count(*) FROM messages"));
    assertEquals(4, databases.count("SELECT refs FROM messages"));
    assertEquals(0, databases.count("SELECT count(*) FROM mailbox_entries WHERE entry IS NOT NULL"));
    assertEquals(List.of(post.withCursor(1)), storage.readMailbox(BOB, 0, 10));
    assertEquals(Optional.of(post), storage.entry("thread", "g/1"));
    assertEquals(List.of(post), storage.entries("thread", "g/", "g0", 10));
    // get and scan see values only; entries sees kept entries only.
    assertTrue(storage.get("thread", "g/1").isEmpty());
    assertEquals(List.of(), storage.scan("thread", "g/", "g0", 10));
    await(storage.commit(StorageChange.builder().put("thread", "g/0", new byte[] {1}).build()));
    assertEquals(List.of(post), storage.entries("thread", "g/", "g0", 10));

    // Trim takes the mailbox entries; the kept entry holds the message.
    assertEquals(3, await(storage.trim(1001)));
    assertEquals(1, databases.count("SELECT refs FROM messages"));
    assertEquals(List.of(), storage.readMailbox(BOB, 0, 10));
    // A put replaces the kept entry, which releases the message's last reference.
    await(storage.commit(StorageChange.builder().put("thread", "g/1", new byte[] {7}).build()));
    assertEquals(0, databases.count("SELECT count(*) FROM messages"));
    assertEquals(Optional.empty(), storage.entry("thread", "g/1"));
    assertArrayEquals(new byte[] {7}, storage.get("thread", "g/1").orElseThrow());

    // A keep replaces a value; a delete of the key releases its message.
    await(storage.commit(StorageChange.builder().keep("thread", "g/1", post).append(BOB, post).build()));
    assertTrue(storage.get("thread", "g/1").isEmpty());
    assertEquals(2, databases.count("SELECT refs FROM messages"));
    await(storage.commit(StorageChange.builder().delete("thread", "g/1").build()));
    assertEquals(1, databases.count("SELECT refs FROM messages"));
    assertEquals(List.of(post.withCursor(2)), storage.readMailbox(BOB, 0, 10));
  }

  @Test
  void aMessageCarriedOnceIsStoredWholeInItsEntry() throws Exception {
    PostgresStorage storage = open();
    await(storage.commit(delivery("d", 1000, ALICE, BOB)));
    assertEquals(0, databases.count("SELECT count(*) FROM messages"));
    assertEquals(1, databases.count("SELECT count(*) FROM mailbox_entries WHERE entry IS NOT NULL"));
  }

  @Test
  void trimDeletesOldEntriesAndRecordsButNeverReusesCursors() throws Exception {
    PostgresStorage storage = open();
    for (int i = 1; i <= 6; i++) {
      await(storage.commit(delivery("t" + i, i * 1000L, ALICE, BOB)));
    }
    await(storage.commit(StorageChange.builder().keep("k", "1", entry("kept", ALICE, 10)).build()));

    assertEquals(3, await(storage.trim(4000)));
    assertEquals(List.of(4L, 5L, 6L), storage.readMailbox(BOB, 0, 10).stream().map(MailboxEntry::cursor).toList());
    assertEquals(Optional.empty(), storage.acceptedAnswer(id("t3")));
    assertEquals(Optional.of(ack("t4")), storage.acceptedAnswer(id("t4")));
    assertTrue(storage.entry("k", "1").isPresent());
    assertEquals(3, await(storage.trim(Long.MAX_VALUE)));
    assertEquals(6, storage.lastCursor(BOB));
    assertEquals(List.of(7L), await(storage.commit(delivery("t7", 7000, ALICE, BOB))));
  }

  @Test
  void trimWorksInChunks() throws Exception {
    PostgresStorage storage = open();
    StorageChange.Builder change = StorageChange.builder();
    for (int i = 0; i < 25; i++) {
      change.append(BOB, entry("c" + i, ALICE, i));
    }
    await(storage.commit(change.build()));
    Retention retention = new Retention(new Committer(hikari(), new Entries(new org.esmp.api.testkit.TestJsonCodec()), (c, cursors) -> {}), 10);
    assertEquals(25, retention.trim(100));
    assertEquals(25, storage.lastCursor(BOB));
  }

  private javax.sql.DataSource hikari() {
    org.postgresql.ds.PGSimpleDataSource database = new org.postgresql.ds.PGSimpleDataSource();
    database.setURL(url);
    com.zaxxer.hikari.HikariConfig config = new com.zaxxer.hikari.HikariConfig();
    config.setDataSource(database);
    config.setAutoCommit(false);
    config.setMaximumPoolSize(1);
    return new com.zaxxer.hikari.HikariDataSource(config);
  }

  /**
   * An {@link Error} thrown while a connection is in use (a stack overflow or out of memory inside
   * the driver, which may leave a message half sent) closes that connection: the next borrower of
   * the pool, of one connection here, gets a new one, on a new server process.
   */
  @Test
  void aConnectionAnErrorStruckIsClosedNotUsedAgain() throws Exception {
    PostgresStorage storage = databases.open(1);
    int read = storage.read(PostgresStorageTest::backendPid);
    assertThrows(StackOverflowError.class, () -> storage.read(c -> {
      backendPid(c);
      throw new StackOverflowError("thrown by the test");
    }));
    assertNotEquals(read, (int) storage.read(PostgresStorageTest::backendPid), "a new connection for the next read");
    awaitGone(read);

    com.zaxxer.hikari.HikariDataSource writes = (com.zaxxer.hikari.HikariDataSource) hikari();
    Committer committer = new Committer(writes, new Entries(new org.esmp.api.testkit.TestJsonCodec()), (c, cursors) -> {});
    try {
      int written = committer.inTransaction(PostgresStorageTest::backendPid, () -> {});
      assertThrows(StackOverflowError.class, () -> committer.inTransaction(c -> {
        backendPid(c);
        throw new StackOverflowError("thrown by the test");
      }, () -> {}));
      assertNotEquals(written, (int) committer.inTransaction(PostgresStorageTest::backendPid, () -> {}));
      awaitGone(written);
    } finally {
      committer.close();
      writes.close();
    }
  }

  private static int backendPid(Connection connection) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery("SELECT pg_backend_pid()")) {
      rows.next();
      return rows.getInt(1);
    }
  }

  /** Waits until the server process {@code pid} has ended (its client closed the connection). */
  private void awaitGone(int pid) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (databases.count("SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid) > 0) {
      assertTrue(System.nanoTime() < deadline, "the connection of server process " + pid + " is still open");
      Thread.sleep(20);
    }
  }

  @Test
  void addressesThatHaveAKeyInPagesOfTheirText() throws Exception {
    PostgresStorage storage = open();
    for (String local : List.of("carol", "alice", "bob", "dave")) {
      await(storage.commit(StorageChange.builder().bindKey(address(local), key(local)).build()));
    }
    await(storage.commit(StorageChange.builder().unbindKey(address("dave"), key("dave")).build()));

    assertEquals(List.of(ALICE, BOB), storage.addresses("", 2));
    assertEquals(List.of(CAROL), storage.addresses(BOB.toString(), 2));
    assertEquals(List.of(), storage.addresses(CAROL.toString(), 2));
    assertEquals(List.of(), storage.addresses("", 0));
  }

  @Test
  void backupIsRefusedNamingPostgresqlsTools() throws Exception {
    PostgresStorage storage = open();
    Throwable refused = failure(storage.backup(Path.of("/nonexistent")));
    assertInstanceOf(UnsupportedOperationException.class, refused);
    assertTrue(refused.getMessage().contains("pg_basebackup"), refused.getMessage());
  }

  @Test
  void startFailsNamingTheMissingJdbcUrl() {
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> open(Map.of()));
    assertTrue(e.getMessage().contains("jdbc_url"), e.getMessage());
    IllegalStateException unreachable = assertThrows(IllegalStateException.class,
        () -> open(Map.of("jdbc_url", "jdbc:postgresql://127.0.0.1:1/none?connectTimeout=2")));
    assertTrue(unreachable.getMessage().contains("cannot open the database"), unreachable.getMessage());
  }

  @Test
  void aMultiHostUrlConnectsToThePrimaryItFinds() throws Exception {
    String database = url.substring(url.lastIndexOf('/') + 1, url.indexOf('?'));
    PostgresStorage storage = open(Map.of("jdbc_url", "jdbc:postgresql://127.0.0.1:1,127.0.0.1:" + databases.postgres().port()
        + "/" + database + "?targetServerType=primary&connectTimeout=2", "user", "postgres"));
    assertEquals(List.of(1L), await(storage.commit(delivery("m", 1, ALICE, BOB))));
  }

  @Test
  void thePasswordFileIsReadOnceWithoutItsLineBreak(@TempDir Path directory) throws Exception {
    Path file = directory.resolve("password");
    Files.writeString(file, "s3cret\n");
    Settings settings = Settings.from(Map.of("jdbc_url", url, "password_file", file.toString(), "user", "esmp"));
    assertEquals(Optional.of("s3cret"), settings.password());
    assertEquals(Settings.DEFAULT_POOL_SIZE, settings.poolSize());
    assertFalse(settings.toString().contains("s3cret"));
    assertThrows(IllegalStateException.class, () -> Settings.from(Map.of("jdbc_url", url, "pool_size", "0")));
    assertThrows(IllegalStateException.class,
        () -> Settings.from(Map.of("jdbc_url", url, "password_file", directory.resolve("none").toString())));
  }

  @Test
  void theSchemaIsRecordedAndMigratedOnceWhenSeveralServersStartAtOnce() throws Exception {
    List<CompletableFuture<PostgresStorage>> starting = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      starting.add(CompletableFuture.supplyAsync(this::open));
    }
    for (CompletableFuture<PostgresStorage> s : starting) {
      s.get(60, TimeUnit.SECONDS);
    }
    assertEquals(Schema.SCRIPTS.size(), databases.count("SELECT count(*) FROM schema_version"));
  }

  @Test
  void aSchemaNewerThanThePluginKnowsIsRefusedAtStart() throws Exception {
    open();
    databases.execute("INSERT INTO schema_version (version, script) VALUES (" + (Schema.SCRIPTS.size() + 1) + ", 'V2__future.sql')");
    IllegalStateException e = assertThrows(IllegalStateException.class, this::open);
    assertTrue(e.getMessage().contains("newer"), e.getMessage());
  }

  @Test
  void tablesGoneFailTheStorageForGood() throws Exception {
    PostgresStorage storage = open();
    databases.execute("DROP TABLE mailbox_entries");
    assertInstanceOf(StorageFailedException.class, failure(storage.commit(delivery("m", 1, ALICE, BOB))));
    assertInstanceOf(StorageFailedException.class, await(storage.failure()));
    assertInstanceOf(StorageFailedException.class, failure(storage.commit(StorageChange.builder().build())));
  }

  @Test
  void aDatabaseDownForAWhileFailsCommitsMeanwhileNotTheStorage() throws Exception {
    PostgresStorage storage = open();
    await(storage.commit(delivery("before", 1, ALICE, BOB)));
    databases.postgres().stopServer();
    try {
      Throwable down = failure(storage.commit(delivery("during", 2, ALICE, BOB)));
      assertInstanceOf(IllegalStateException.class, down);
    } finally {
      databases.postgres().restart();
    }
    assertFalse(storage.failure().toCompletableFuture().isDone());
    Map<String, Long> lasts = new HashMap<>();
    // The pool reconnects: commits succeed again.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      try {
        lasts.put("after", await(storage.commit(delivery("after", 3, ALICE, BOB))).get(0));
        break;
      } catch (ExecutionException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
      }
    }
    assertEquals(2L, lasts.get("after"));
    assertEquals(List.of(1L, 2L), storage.readMailbox(BOB, 0, 10).stream().map(MailboxEntry::cursor).toList());
  }
}
