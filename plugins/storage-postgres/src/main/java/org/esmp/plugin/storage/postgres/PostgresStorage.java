package org.esmp.plugin.storage.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import org.esmp.api.Address;
import org.esmp.api.Ed25519Key;
import org.esmp.api.MailboxEntry;
import org.esmp.api.MessageId;
import org.esmp.api.ServerContext;
import org.esmp.api.StorageFailedException;
import org.esmp.api.Stored;
import org.esmp.api.json.JsonObject;
import org.esmp.api.spi.MailboxWatcher;
import org.esmp.api.spi.Storage;
import org.esmp.api.spi.StorageChange;
import org.pf4j.Extension;
import org.postgresql.Driver;
import org.postgresql.PGProperty;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * {@link Storage} on a PostgreSQL database, shared by every server of a domain (a cluster): the
 * database holds all durable state, the servers none of their own.
 *
 * <p><b>Settings</b> ({@link ServerContext#settings()}): {@code jdbc_url} (required), {@code user},
 * {@code password_file}, {@code pool_size}; see {@link Settings}. The constructor checks them,
 * connects, and creates or migrates the tables ({@link Schema}); it throws {@link
 * IllegalStateException} saying what is wrong, and the server does not start.
 *
 * <p><b>Commits</b>: one {@link StorageChange}, one transaction, its conditions checked under locks
 * that make them hold at commit with writers on several servers ({@link ChangeTransaction}); run on
 * the plugin's commit threads ({@link Committer}), {@code commit} never blocks its caller. Durable
 * as PostgreSQL makes a commit durable: keep {@code synchronous_commit} on (and a synchronous
 * standby, for a failover to lose nothing acknowledged).
 *
 * <p><b>Reads</b> query the database on the caller's thread, through a pool of their own so that
 * commits waiting for locks never hold them up; they see committed data only.
 *
 * <p><b>Wake-ups across servers.</b> After each commit (never inside its transaction), the cursors
 * of its appends are announced on the channel {@value Hints#CHANNEL} ({@link Notifier}), whether or
 * not this storage is watched; {@link #watch} listens there for the other servers' ({@link
 * Listener}). Each storage has a random node id, so that it skips its own. The messages of ephemeral
 * types cross on the channel {@value Live#CHANNEL} the same way ({@link #publishLive}).
 *
 * <p><b>Failure.</b> A database unreachable for a while (a failover) fails commits meanwhile and
 * they succeed again after; {@link #failure()} completes only for what waiting does not heal
 * (corrupted data, the plugin's tables gone).
 *
 * <p>Thread-safe.
 */
@Extension
public final class PostgresStorage implements Storage {

  private final Entries entries;

  private final HikariDataSource writes;
  private final HikariDataSource reads;
  private final Committer committer;
  private final Retention retention;
  private final ExecutorService trims = Executors.newSingleThreadExecutor(Committer.threads("storage-postgres-trim"));
  private final Settings settings;
  /** This storage among the cluster's, on the channel of wake-ups. */
  private final String node = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
  private final Notifier notifier;
  /** Seals the ephemeral messages the servers send each other. */
  private final LiveKey liveKey;
  private Listener listener; // guarded by this

  /** Connects to the database the settings name, and creates or migrates its tables. */
  public PostgresStorage(ServerContext context) {
    settings = Settings.from(context.settings());
    entries = new Entries(context.json());
    PGSimpleDataSource database = dataSource(settings, "esmp-storage-postgres");
    try {
      Schema.migrate(database);
      liveKey = LiveKey.of(database);
    } catch (SQLException e) {
      throw new IllegalStateException(
          "storage-postgres: cannot open the database at " + settings.jdbcUrl() + ": " + e.getMessage(), e);
    }
    PGSimpleDataSource pooled = pooled(settings);
    writes = pool(pooled, "storage-postgres-writes", settings.poolSize(), false);
    reads = pool(pooled, "storage-postgres-reads", settings.poolSize(), true);
    notifier = new Notifier(channel(settings, "esmp-storage-postgres-notify"), node, liveKey);
    // One commit thread: changes apply in the order they were handed over, as the SPI requires (the
    // server pipelines changes that build on each other, such as a group's next post), several in
    // one transaction.
    committer = new Committer(writes, entries, notifier);
    retention = new Retention(committer);
  }

  private static PGSimpleDataSource dataSource(Settings settings, String applicationName) {
    PGSimpleDataSource database = new PGSimpleDataSource();
    try {
      database.setURL(settings.jdbcUrl());
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException("storage-postgres: jdbc_url is not a PostgreSQL JDBC URL: " + e.getMessage(), e);
    }
    settings.user().ifPresent(database::setUser);
    settings.password().ifPresent(database::setPassword);
    database.setApplicationName(applicationName);
    database.setTcpKeepAlive(true);
    return database;
  }

  /** Seconds a pooled connection waits for the database's answer (unless jdbc_url sets socketTimeout). */
  static final int SOCKET_TIMEOUT_SECONDS = 30;
  /** Seconds a connect to one host of jdbc_url may take (unless jdbc_url sets connectTimeout). */
  static final int CONNECT_TIMEOUT_SECONDS = 2;

  /**
   * For the pools. A database that stops answering without closing its connections (a primary cut
   * off by the network, or whose machine died) fails the statement waiting on it after {@value
   * #SOCKET_TIMEOUT_SECONDS} s, rather than when TCP gives up, many minutes later, with every
   * commit queued behind it. A host that does not answer a connect is given up after {@value
   * #CONNECT_TIMEOUT_SECONDS} s, so that the next host of a multi-host URL is tried within the
   * pools' wait for a connection (5 s). Values the URL sets itself are kept.
   */
  static PGSimpleDataSource pooled(Settings settings) {
    PGSimpleDataSource database = dataSource(settings, "esmp-storage-postgres");
    Properties fromUrl = Driver.parseURL(settings.jdbcUrl(), null);
    if (fromUrl == null || !fromUrl.containsKey(PGProperty.SOCKET_TIMEOUT.getName())) {
      database.setSocketTimeout(SOCKET_TIMEOUT_SECONDS);
    }
    if (fromUrl == null || !fromUrl.containsKey(PGProperty.CONNECT_TIMEOUT.getName())) {
      database.setConnectTimeout(CONNECT_TIMEOUT_SECONDS);
    }
    return database;
  }

  /**
   * For the one connection of the notifier or the listener: it fails within seconds when the
   * database is unreachable, rather than holding up wake-ups (or close) for long.
   */
  private static PGSimpleDataSource channel(Settings settings, String applicationName) {
    PGSimpleDataSource database = dataSource(settings, applicationName);
    database.setConnectTimeout(CONNECT_TIMEOUT_SECONDS);
    database.setLoginTimeout(5);
    database.setSocketTimeout(15);
    return database;
  }

  private static HikariDataSource pool(PGSimpleDataSource database, String name, int size, boolean autoCommit) {
    HikariConfig config = new HikariConfig();
    config.setDataSource(database);
    config.setPoolName(name);
    config.setMaximumPoolSize(size);
    config.setAutoCommit(autoCommit);
    config.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
    // While the database is unreachable, a commit fails after this long rather than waiting on.
    config.setConnectionTimeout(5_000);
    // The schema step just connected; a pool may start while the database is briefly away.
    config.setInitializationFailTimeout(-1);
    return new HikariDataSource(config);
  }

  @Override
  public Optional<Address> addressOf(Ed25519Key key) {
    return read(c -> ChangeTransaction.ownerOf(c, key));
  }

  @Override
  public List<Ed25519Key> keysOf(Address address) {
    return read(c -> ChangeTransaction.keysOf(c, address));
  }

  @Override
  public Optional<JsonObject> acceptedAnswer(MessageId id) {
    Optional<JsonObject> answer = read(c -> ChangeTransaction.acceptedAnswer(c, Keys.id(id))).map(entries::answer);
    if (answer.isPresent()) {
      awaitDurable(Keys.id(id));
    }
    return answer;
  }

  /**
   * Returns once the record of accepted message {@code id} is as durable as a commit of this
   * storage (on a synchronous standby too). PostgreSQL shows a committed transaction to other
   * sessions before its standby confirmed it: a resend read as accepted in that moment would be
   * answered as a duplicate, and a failover right then would lose the message it answers for. A
   * transaction that rewrites the record waits for the one that wrote it to end, and its own commit
   * waits for the standby ({@link ChangeTransaction#touchAccepted}). Only for messages found
   * accepted: resends, rare.
   */
  private void awaitDurable(byte[] id) {
    try {
      committer.inTransaction(c -> ChangeTransaction.touchAccepted(c, id), () -> {});
    } catch (SQLException e) {
      throw new IllegalStateException("storage-postgres: read failed: " + e.getMessage(), e);
    }
  }

  @Override
  public List<Address> addresses(String after, int limit) {
    if (limit <= 0) {
      return List.of();
    }
    return read(c -> {
      try (PreparedStatement select = c.prepareStatement(
          "SELECT DISTINCT address FROM identities WHERE address > ? ORDER BY address LIMIT ?")) {
        select.setString(1, after);
        select.setInt(2, limit);
        List<Address> found = new ArrayList<>();
        try (ResultSet rows = select.executeQuery()) {
          while (rows.next()) {
            found.add(Address.parse(rows.getString(1)));
          }
        }
        return found;
      }
    });
  }

  @Override
  public long lastCursor(Address address) {
    return read(c -> {
      try (PreparedStatement select = c.prepareStatement("SELECT last_cursor FROM mailboxes WHERE address = ?")) {
        select.setString(1, address.toString());
        try (ResultSet rows = select.executeQuery()) {
          return rows.next() ? rows.getLong(1) : 0L;
        }
      }
    });
  }

  @Override
  public List<MailboxEntry> readMailbox(Address address, long afterCursor, int limit) {
    if (limit <= 0) {
      return List.of();
    }
    return read(c -> {
      try (PreparedStatement select = c.prepareStatement(
          "SELECT e.cursor, coalesce(e.entry, m.entry) FROM mailbox_entries e LEFT JOIN messages m ON m.id = e.message_id"
              + " WHERE e.address = ? AND e.cursor > ? ORDER BY e.cursor LIMIT ?")) {
        select.setString(1, address.toString());
        select.setLong(2, afterCursor);
        select.setInt(3, limit);
        List<MailboxEntry> found = new ArrayList<>();
        try (ResultSet rows = select.executeQuery()) {
          while (rows.next()) {
            found.add(entries.decode(rows.getLong(1), rows.getBytes(2)));
          }
        }
        return found;
      }
    });
  }

  @Override
  public Optional<byte[]> get(String space, String key) {
    return read(c -> {
      try (PreparedStatement select =
          c.prepareStatement("SELECT value FROM key_values WHERE space = ? AND key = ? AND value IS NOT NULL")) {
        select.setString(1, space);
        select.setBytes(2, Keys.key(key));
        try (ResultSet rows = select.executeQuery()) {
          return rows.next() ? Optional.of(rows.getBytes(1)) : Optional.empty();
        }
      }
    });
  }

  @Override
  public List<Stored> scan(String space, String fromKey, String toKey, int limit) {
    if (limit <= 0 || fromKey.compareTo(toKey) >= 0) {
      return List.of();
    }
    return read(c -> {
      try (PreparedStatement select = c.prepareStatement(
          "SELECT key, value FROM key_values WHERE space = ? AND key >= ? AND key < ? AND value IS NOT NULL"
              + " ORDER BY key LIMIT ?")) {
        select.setString(1, space);
        select.setBytes(2, Keys.key(fromKey));
        select.setBytes(3, Keys.key(toKey));
        select.setInt(4, limit);
        List<Stored> found = new ArrayList<>();
        try (ResultSet rows = select.executeQuery()) {
          while (rows.next()) {
            found.add(new Stored(Keys.key(rows.getBytes(1)), rows.getBytes(2)));
          }
        }
        return found;
      }
    });
  }

  @Override
  public boolean keepsEntries() {
    return true;
  }

  @Override
  public Optional<MailboxEntry> entry(String space, String key) {
    List<MailboxEntry> found = keptEntries(space, Keys.key(key), null, 1);
    return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
  }

  @Override
  public List<MailboxEntry> entries(String space, String fromKey, String toKey, int limit) {
    if (limit <= 0 || fromKey.compareTo(toKey) >= 0) {
      return List.of();
    }
    return keptEntries(space, Keys.key(fromKey), Keys.key(toKey), limit);
  }

  /** Kept entries from {@code from} (inclusive) to {@code to} (exclusive; null: {@code from} alone). */
  private List<MailboxEntry> keptEntries(String space, byte[] from, byte[] to, int limit) {
    return read(c -> {
      try (PreparedStatement select = c.prepareStatement(
          "SELECT coalesce(k.entry, m.entry) FROM key_values k LEFT JOIN messages m ON m.id = k.message_id"
              + " WHERE k.space = ? AND k.value IS NULL AND "
              + (to == null ? "k.key = ?" : "k.key >= ? AND k.key < ?")
              + " ORDER BY k.key LIMIT ?")) {
        int i = 1;
        select.setString(i++, space);
        select.setBytes(i++, from);
        if (to != null) {
          select.setBytes(i++, to);
        }
        select.setInt(i, limit);
        List<MailboxEntry> found = new ArrayList<>();
        try (ResultSet rows = select.executeQuery()) {
          while (rows.next()) {
            found.add(entries.decode(0, rows.getBytes(1)));
          }
        }
        return found;
      }
    });
  }

  /**
   * {@inheritDoc}
   *
   * <p>Here: one transaction on a commit thread of the plugin; returns at once. Fails with
   * {@link IllegalStateException} while the database is unreachable (nothing stored), or when the
   * connection broke during {@code COMMIT} (the outcome is unknown: a resend of the message then
   * finds it accepted, or not).
   */
  @Override
  public CompletionStage<List<Long>> commit(StorageChange change) {
    return committer.submit(change);
  }

  /** {@inheritDoc} Here: in chunks, each a transaction, on a thread of the plugin. */
  @Override
  public CompletionStage<Long> trim(long receivedBefore) {
    CompletableFuture<Long> done = new CompletableFuture<>();
    trims.execute(() -> {
      try {
        done.complete(retention.trim(receivedBefore));
      } catch (Exception | Error e) {
        done.completeExceptionally(e);
      }
    });
    return done;
  }

  /**
   * {@inheritDoc}
   *
   * <p>Here: only what no waiting heals, such as corrupted data or the plugin's tables gone. A
   * database that is down for a while (a failover) is not a failure of the storage.
   */
  @Override
  public CompletionStage<StorageFailedException> failure() {
    return committer.failure();
  }

  /**
   * Refused: this storage keeps nothing in the data directory. Back the database up with
   * PostgreSQL's own tools ({@code pg_basebackup} with WAL archiving for point-in-time recovery, or
   * {@code pg_dump}), as for any database that several servers share.
   */
  @Override
  public CompletionStage<Void> backup(Path directory) {
    return CompletableFuture.failedFuture(new UnsupportedOperationException(
        "storage-postgres keeps everything in PostgreSQL: back the database up with PostgreSQL's own tools"
            + " (pg_basebackup and WAL archiving, or pg_dump), not with esmp-admin backup"));
  }

  /** Every server of the cluster opens the same database. */
  @Override
  public boolean shared() {
    return true;
  }

  /**
   * {@inheritDoc}
   *
   * <p>Here: returns once {@code LISTEN} is in place (or failed: it is retried in the background,
   * and {@link MailboxWatcher#missed()} called once it succeeds), within about five seconds.
   *
   * @throws IllegalStateException when called a second time
   */
  @Override
  public void watch(MailboxWatcher watcher) {
    Listener started;
    synchronized (this) {
      if (listener != null) {
        throw new IllegalStateException("storage-postgres: watch was called already");
      }
      listener = new Listener(channel(settings, "esmp-storage-postgres-listen"), node, watcher, liveKey);
      started = listener;
    }
    started.start(5_000);
  }

  /**
   * {@inheritDoc}
   *
   * <p>Here: queued for the notifier's thread ({@link Notifier#live}), which sends it sealed on the
   * channel {@value Live#CHANNEL}, in the payload or, when larger, in a row of {@code
   * live_messages} kept a minute. Best effort: dropped past the notifier's bounds or when the send
   * fails.
   */
  @Override
  public void publishLive(Collection<Address> recipients, byte[] frame) {
    notifier.live(recipients, frame);
  }

  /** Lets queued commits finish and announces them, stops listening, then closes the pools. */
  @Override
  public void close() {
    committer.close();
    notifier.close();
    Listener watching;
    synchronized (this) {
      watching = listener;
    }
    if (watching != null) {
      watching.close();
    }
    trims.shutdownNow();
    writes.close();
    reads.close();
  }

  /** Runs {@code query} on a connection of the read pool (auto-commit on). */
  <T> T read(Committer.Work<T> query) {
    try (Connection connection = reads.getConnection()) {
      try {
        return query.apply(connection);
      } catch (Error e) {
        Committer.discard(reads, connection);
        throw e;
      }
    } catch (SQLException e) {
      throw new IllegalStateException("storage-postgres: read failed: " + e.getMessage(), e);
    }
  }
}
