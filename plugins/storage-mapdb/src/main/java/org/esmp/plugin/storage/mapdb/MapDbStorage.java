package org.esmp.plugin.storage.mapdb;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.esmp.api.Address;
import org.esmp.api.Ed25519Key;
import org.esmp.api.MailboxEntry;
import org.esmp.api.MessageId;
import org.esmp.api.ServerContext;
import org.esmp.api.StorageFailedException;
import org.esmp.api.Stored;
import org.esmp.api.spi.Storage;
import org.esmp.api.spi.StorageChange;
import org.esmp.api.json.JsonObject;
import org.pf4j.Extension;

/**
 * {@link Storage} on one MapDB file, {@code <data>/storage-mapdb/storage.db}: MapDB's plain store
 * (no MapDB transactions) on its own redo journal, {@link JournaledVolume}.
 *
 * <p><b>Writes</b> go through one thread ({@link GroupCommitter}): every change queued while the
 * previous commit ran is applied and committed together, and the futures complete in commit order
 * on that thread. At most {@value #MAX_QUEUED} changes wait; beyond that {@link #commit} fails at
 * once rather than letting memory grow.
 *
 * <p><b>Reads</b> see only committed data although MapDB shows the open transaction to every
 * thread: identities and last cursors are answered from memory, updated after each commit;
 * mailbox reads stop at the committed last cursor; accepted ids of the batch being committed are
 * held in a pending set (the exact order is explained in {@link CommittedView}). Entries and
 * accepted records being deleted by a trim may vanish before that trim commits: they are past
 * retention.
 *
 * <p>Reads after {@link #close} throw {@link IllegalStateException}.
 *
 * <p>The constructor opens and reads through the whole file, and throws
 * {@link IllegalStateException} naming it when it cannot be opened or is damaged. Thread-safe.
 *
 * <p><b>Online backup</b> ({@link #backup}): a copy of the store as it was between two group
 * commits, taken while commits go on; see {@link OnlineBackup}.
 *
 * <p><b>Failure.</b> When a disk write, a disk sync or a checkpoint fails, or the commit thread
 * breaks, the storage fails for good: {@link #failure()} completes, every commit is refused, and
 * the server exits so that a restart replays the journal. The directory and files are created
 * readable by the server's user only.
 */
@Extension
public final class MapDbStorage implements Storage {

  /** The subdirectory of the data directory this plugin keeps its files in. */
  public static final String DIRECTORY = "storage-mapdb";
  static final String FILE_NAME = "storage.db";
  static final int MAX_QUEUED = 100_000;

  private final Records records;
  private final Store store;
  private final KeptMessages messages;
  private final CommittedView view;
  private final GroupCommitter committer;
  private final OnlineBackup backups;
  private final StorageFailure failure = new StorageFailure();

  /** Opens (or creates) the store under the server's data directory. */
  public MapDbStorage(ServerContext context) {
    this(context, JournalOptions.DEFAULT);
  }

  /**
   * Opens (or creates) the store with {@code options} for its journal: for tests.
   *
   * <p>The directory is created readable by the server's user only, and the data directory forced
   * so that its name is durable.
   */
  MapDbStorage(ServerContext context, JournalOptions options) {
    Path directory = context.dataDirectory().resolve(DIRECTORY);
    try {
      Files.createDirectories(context.dataDirectory());
      if (OwnerOnly.createDirectory(directory)) {
        options.afterStep().accept("directory created");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("storage-mapdb: cannot create " + directory + ": " + e.getMessage(), e);
    }
    records = new Records(context.json());
    store = Store.open(directory.resolve(FILE_NAME), failure, options);
    try {
      view = CommittedView.load(store, store.verify(records));
    } catch (RuntimeException e) {
      store.closeQuietly();
      throw new IllegalStateException(
          "storage-mapdb: " + store.file + " is damaged or unreadable: " + e, e);
    }
    messages = new KeptMessages(store);
    committer = new GroupCommitter(store, view, records, failure, MAX_QUEUED);
    backups = new OnlineBackup(store, committer, records);
    committer.start();
  }

  @Override
  public Optional<Address> addressOf(Ed25519Key key) {
    return view.addressOf(key);
  }

  @Override
  public List<Ed25519Key> keysOf(Address address) {
    return view.keysOf(address);
  }

  /** {@inheritDoc} Answered from memory. */
  @Override
  public List<Address> addresses(String after, int limit) {
    return view.addresses(after, limit);
  }

  @Override
  public Optional<JsonObject> acceptedAnswer(MessageId id) {
    return whileOpen(() -> readAcceptedAnswer(id));
  }

  private Optional<JsonObject> readAcceptedAnswer(MessageId id) {
    String hex = id.hex();
    long prefix = Keys.idPrefix(id);
    while (true) {
      long rollbacks = view.rollbacks.get();
      byte[] stored = store.accepted.get(prefix);
      if (stored == null || view.pendingIds.contains(hex)) {
        return Optional.empty();
      }
      if (view.rollbacks.get() == rollbacks) {
        return records.acceptedAnswer(stored, Keys.idBytes(id));
      }
      // A rollback ran meanwhile: what was read may have been undone; read again.
    }
  }

  @Override
  public Optional<byte[]> get(String space, String key) {
    return whileOpen(() -> view.values.get(space, key));
  }

  @Override
  public List<Stored> scan(String space, String fromKey, String toKey, int limit) {
    return whileOpen(() -> view.values.scan(space, fromKey, toKey, limit));
  }

  @Override
  public boolean keepsEntries() {
    return true;
  }

  @Override
  public Optional<MailboxEntry> entry(String space, String key) {
    return whileOpen(() -> {
      byte[] stored = view.kept.committed(space, key);
      return Optional.ofNullable(stored == null ? null : decode(0, stored));
    });
  }

  @Override
  public List<MailboxEntry> entries(String space, String fromKey, String toKey, int limit) {
    return whileOpen(() -> {
      List<MailboxEntry> entries = new ArrayList<>();
      for (Stored stored : view.kept.scan(space, fromKey, toKey, limit)) {
        MailboxEntry entry = decode(0, stored.value());
        if (entry != null) {
          entries.add(entry);
        }
      }
      return entries;
    });
  }

  /** The entry a stored mailbox or kept entry holds, at {@code cursor}; null when it is being deleted. */
  private MailboxEntry decode(long cursor, byte[] stored) {
    byte[] whole = messages.whole(stored);
    return whole == null ? null : records.entry(cursor, whole);
  }

  @Override
  public long lastCursor(Address address) {
    return view.lastCursor(address);
  }

  @Override
  public List<MailboxEntry> readMailbox(Address address, long afterCursor, int limit) {
    return whileOpen(() -> readMailboxEntries(address, afterCursor, limit));
  }

  /**
   * Runs a read of the store. A read that raced with {@link #close}: MapDB says so with an {@link
   * IllegalAccessError}, an {@code Error} callers would not expect from a read; this turns it into
   * the exception they do.
   */
  private static <T> T whileOpen(Supplier<T> read) {
    try {
      return read.get();
    } catch (IllegalAccessError e) {
      throw new IllegalStateException("storage-mapdb is closed", e);
    }
  }

  private List<MailboxEntry> readMailboxEntries(Address address, long afterCursor, int limit) {
    CommittedView.Mailbox mailbox = view.mailbox(address);
    if (limit <= 0 || mailbox == null || afterCursor >= mailbox.lastCursor()) {
      return List.of();
    }
    List<MailboxEntry> entries = new ArrayList<>(Math.min(limit, 256));
    Map<Long, byte[]> range =
        store.mailbox.subMap(
            Keys.mailbox(mailbox.id(), Math.max(afterCursor, 0L)),
            false,
            Keys.mailbox(mailbox.id(), mailbox.lastCursor()),
            true);
    for (Map.Entry<Long, byte[]> e : range.entrySet()) {
      MailboxEntry entry = decode(Keys.cursor(e.getKey()), e.getValue());
      if (entry != null) {
        entries.add(entry);
        if (entries.size() == limit) {
          break;
        }
      }
    }
    return entries;
  }

  /**
   * {@inheritDoc}
   *
   * <p>Conditions are checked on the commit thread, in queue order, against the open transaction:
   * every change committed and every change applied before this one in its batch. A change whose
   * condition fails is not applied and fails once its batch is committed; the others of its batch
   * are committed. Fails with {@link org.esmp.api.StorageFailedException} once the storage failed
   * for good; a change too large for one journal record fails alone, and the others of its batch
   * are committed.
   */
  @Override
  public CompletionStage<List<Long>> commit(StorageChange change) {
    return committer.submit(change);
  }

  /**
   * {@inheritDoc}
   *
   * <p>Here: a failed append to the journal (such as a full disk), a failed fdatasync, a failed
   * checkpoint, or the commit thread breaking. See {@link JournaledVolume#sync()}.
   */
  @Override
  public CompletionStage<StorageFailedException> failure() {
    return failure.stage();
  }

  @Override
  public CompletionStage<Long> trim(long receivedBefore) {
    return committer.trim(receivedBefore);
  }

  /**
   * {@inheritDoc}
   *
   * <p>Here: {@code <directory>/storage-mapdb/storage.db}, one file with no journal, taken between
   * two group commits without stopping them, then opened and read through before the stage
   * completes: see {@link OnlineBackup}. Runs on a thread of its own.
   */
  @Override
  public CompletionStage<Void> backup(Path directory) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    Thread thread = new Thread(() -> {
      try {
        backups.write(directory);
        done.complete(null);
      } catch (Exception | Error e) {
        done.completeExceptionally(e);
      }
    }, "storage-mapdb-backup");
    thread.setDaemon(true);
    thread.start();
    return done;
  }

  /** Commits what is queued, then closes the file. Idempotent. */
  @Override
  public void close() {
    committer.close();
  }

  /** How many MapDB commits ran; for tests and measurement. */
  long dbCommits() {
    return committer.dbCommits();
  }

  /** How many changes were committed; for tests and measurement. */
  long committedChanges() {
    return committer.committedChanges();
  }

  /** Milliseconds spent writing batches into the transaction, and committing them. */
  long[] batchMillis() {
    return new long[] {committer.applyNanos() / 1_000_000, committer.commitNanos() / 1_000_000};
  }

  /** Test hook: starts a checkpoint of what is committed; call it while no commit runs. */
  void beginCheckpoint() {
    store.volume().beginCheckpoint();
  }

  /** Test hook: runs on a backup's thread once its backup point is taken, before it copies. */
  void afterBackupPoint(Runnable hook) {
    backups.afterPoint = hook;
  }

  /** Test hook: runs on the commit thread between applying a batch and committing it. */
  void beforeCommit(Runnable hook) {
    committer.beforeCommit(hook);
  }
}
