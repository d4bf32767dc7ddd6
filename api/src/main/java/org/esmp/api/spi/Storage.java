package org.esmp.api.spi;

import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.esmp.api.Address;
import org.esmp.api.Ed25519Key;
import org.esmp.api.MailboxEntry;
import org.esmp.api.MessageId;
import org.esmp.api.ServerContext;
import org.esmp.api.StorageFailedException;
import org.esmp.api.Stored;
import org.esmp.api.json.JsonObject;
import org.pf4j.ExtensionPoint;

/**
 * The storage SPI: where the server keeps what must survive a restart and a crash: identities, the
 * ids of accepted messages, every address's mailbox, and the plugins' values. Exactly one storage
 * is used: if several plugins provide one, the server refuses to start. Only the server calls it:
 * other plugins keep their values through the narrower {@link org.esmp.api.Store}, and
 * {@link ServerContext#extensions} does not hand a storage out.
 *
 * <p><b>Conditions.</b> {@link #commit} checks the conditions of its change (see
 * {@link StorageChange}) when it applies it, after every change applied before it, and fails with
 * {@link org.esmp.api.ConflictException} or {@link org.esmp.api.DuplicateException}, applying
 * nothing, when one does not hold. The server's correctness rests on these checks, not on locks
 * within one process: several servers may share one storage (a cluster), each with its own
 * in-memory fast paths. A storage on one process checks them on its single writer; a storage on
 * a database checks them in the transaction that applies the change.
 *
 * <p><b>Durability.</b> {@link #commit} completes only once its change is durable (it survives a
 * kill of the process at any instant) and applies it atomically. Implementations commit many
 * changes together (group commit) so that durability does not cost one disk sync per message.
 *
 * <p><b>Visibility.</b> Reads see only committed changes: a message must never look accepted, nor
 * an entry be delivered, before it is durable.
 *
 * <p><b>Threads.</b> Every method is thread-safe. Reads are called for every message from worker
 * threads and must answer from memory or the page cache, without a disk sync; they may wait
 * briefly for a commit in progress. The stage of {@code commit} is completed on the storage's own
 * thread, in commit order: callers must not block it.
 *
 * <p><b>Lifecycle.</b> The storage opens its files in its constructor (taking a
 * {@link ServerContext}, for the data directory) and fails there, loudly, if they are damaged: the
 * server then does not start. {@link #close()} is called once when the server stops. A storage is
 * chosen when the server starts and stays while it runs: its jar changed in or removed from the
 * plugins directory is ignored (with a log line) until the next start, and a jar added then that
 * provides a storage is refused.
 *
 * <p><b>Failure.</b> A storage that can no longer promise durability (a disk sync failed: whether
 * the bytes reached the disk is unknown, and syncing again proves nothing) stops for good rather
 * than go on: see {@link #failure()}.
 */
public interface Storage extends ExtensionPoint {

  /** The address {@code key} is bound to, if any. */
  Optional<Address> addressOf(Ed25519Key key);

  /** The keys bound to {@code address}, oldest first; empty when the address does not exist. */
  List<Ed25519Key> keysOf(Address address);

  /**
   * The answer fields recorded when message {@code id} was accepted (see
   * {@link StorageChange.Accepted}), if it was.
   */
  Optional<JsonObject> acceptedAnswer(MessageId id);

  /**
   * Up to {@code limit} addresses that exist (that have a key), in the order of their text
   * ({@code local#domain}), each sorting after {@code after} ({@code ""} to start at the first):
   * for the operator's listing ({@code esmp-admin users list}), a page at a time. Committed state
   * only, as every read (since 1.2).
   *
   * @throws UnsupportedOperationException when this storage cannot list addresses: the default,
   *     for a storage written for API 1.1 or earlier
   */
  default List<Address> addresses(String after, int limit) {
    throw new UnsupportedOperationException("this storage cannot list addresses");
  }

  /** The cursor of the newest entry ever appended to {@code address}'s mailbox; 0 if none. */
  long lastCursor(Address address);

  /**
   * Up to {@code limit} retained entries of {@code address}'s mailbox with a cursor above
   * {@code afterCursor}, oldest first.
   */
  List<MailboxEntry> readMailbox(Address address, long afterCursor, int limit);

  /** The value under {@code key} in {@code space} (see {@link org.esmp.api.Writes.Put}), if any. */
  Optional<byte[]> get(String space, String key);

  /**
   * Values of {@code space} with keys from {@code fromKey} (inclusive) to {@code toKey}
   * (exclusive), in key order; at most {@code limit}. (Ascending only: choose keys whose ranges you
   * can compute, such as zero-padded sequence numbers, to read backwards in windows.)
   */
  List<Stored> scan(String space, String fromKey, String toKey, int limit);

  /**
   * Whether this storage keeps entries ({@link org.esmp.api.Writes.Keep}, since 1.1): stores each
   * message of a change once, however many of its mailbox appends and kept entries carry it, and
   * answers {@link #entry} and {@link #entries}. The server refuses writes with kept entries on a
   * storage that does not (a storage written for API 1.0), rather than lose them.
   */
  default boolean keepsEntries() {
    return false;
  }

  /** See {@link org.esmp.api.Store#entry}; only called when {@link #keepsEntries()}. */
  default Optional<MailboxEntry> entry(String space, String key) {
    throw new UnsupportedOperationException("this storage does not keep entries");
  }

  /** See {@link org.esmp.api.Store#entries}; only called when {@link #keepsEntries()}. */
  default List<MailboxEntry> entries(String space, String fromKey, String toKey, int limit) {
    throw new UnsupportedOperationException("this storage does not keep entries");
  }

  /**
   * Applies {@code change} atomically and durably, after every change this storage was handed
   * before it: changes apply in the order {@code commit} is called (the server hands over changes
   * that build on earlier ones before those are durable, such as a group's next post, whose
   * conditions name the state the previous one leaves).
   *
   * @return completes once durable, with the cursor assigned to each of the change's appends, in
   *     their order; completes exceptionally (and nothing is applied) when a condition does not
   *     hold ({@link org.esmp.api.ConflictException}, {@link org.esmp.api.DuplicateException}) or
   *     the change cannot be stored
   */
  CompletionStage<List<Long>> commit(StorageChange change);

  /**
   * Deletes mailbox entries received before {@code receivedBefore}, and records of accepted
   * messages accepted before it; a message kept once for several entries goes with the last entry
   * that refers to it. Kept entries ({@link org.esmp.api.Writes.Keep}) stay. Cursors are never
   * reused.
   *
   * @return how many mailbox entries were deleted, once durable
   */
  CompletionStage<Long> trim(long receivedBefore);

  /**
   * Completes once, when the storage has failed for good (a disk sync or checkpoint failed, its
   * writer broke): from then on it refuses every commit with that exception. The server then logs
   * one line and exits non-zero; opening the storage again replays what was durable.
   *
   * <p>The default never completes, for storages that cannot fail this way. Completed on the
   * storage's own thread: callers must not block it.
   */
  default CompletionStage<StorageFailedException> failure() {
    return new CompletableFuture<>();
  }

  /**
   * Writes a consistent copy of this storage's files into {@code directory} while the server runs:
   * the online backup ({@code esmp-admin backup}, since 1.2).
   *
   * <p><b>Layout.</b> {@code directory} is empty and laid out as a data directory: the storage
   * writes its files where it keeps them under the data directory (its subdirectory, named after
   * its plugin id), so that a storage opened on a data directory holding them finds the store as
   * it was. The server copies the rest of the data directory beside them, that subdirectory left
   * out, and describes every file in a manifest.
   *
   * <p><b>Consistency.</b> The copy holds every change whose {@link #commit} completed before this
   * method was called, and is the store as it was between two commits: no part of a change is in it
   * without the rest. Trims count as changes.
   *
   * <p><b>Commits go on</b> while the copy is taken: they may wait a little, but none is refused
   * or failed because of it.
   *
   * <p><b>Threads.</b> Called on a thread of the server's administration, never a worker, and at
   * most once at a time. The stage completes once every file is written and forced to disk; if it
   * fails, the server deletes what was written.
   *
   * @return fails with {@link UnsupportedOperationException} when this storage cannot take an
   *     online backup: the default, for a storage written for API 1.1 or earlier (stop the server
   *     and copy its files instead)
   */
  default CompletionStage<Void> backup(Path directory) {
    return CompletableFuture.failedFuture(
        new UnsupportedOperationException("this storage cannot take an online backup"));
  }

  /** Commits what is pending and closes the store; called once when the server stops. */
  default void close() {}

  /**
   * Whether several servers share this storage (a cluster, since 1.3): the server then checks at
   * start that it signs with the same server key as the others, and reads again, every few seconds,
   * what the others may have changed that it holds in memory (the addresses the operator disabled
   * or removed). The default: one server's storage.
   */
  default boolean shared() {
    return false;
  }

  /**
   * For a storage several servers share (a cluster): tells {@code watcher} of the mailbox appends
   * the other servers commit, from now until the storage closes (since 1.3). Called once, after the
   * storage opened. A storage of one server has nothing to tell: the default does nothing.
   */
  default void watch(MailboxWatcher watcher) {}

  /**
   * For a storage several servers share (a cluster): carries a message delivered live only (of an
   * ephemeral type: never stored) to the other servers, whose watchers get it with {@link
   * MailboxWatcher#live} and push it to the connections following {@code recipients}' mailboxes
   * there (since 1.3). The server calls it for every such message, with the frame it pushes to its
   * own connections, when the storage is {@link #shared}; a storage of one server has nothing to
   * carry: the default does nothing.
   *
   * <p><b>Best effort.</b> Nothing of it is stored for long, nor retried: a server that is not
   * listening (reconnecting to the database) or falls behind never gets it, as a client that is not
   * connected never gets an ephemeral message. It must never block the caller, fail or slow a
   * {@link #commit}, nor hold unbounded memory: past the storage's bounds it drops the message.
   *
   * <p><b>Trust.</b> The other servers write {@code frame} to their clients as it is, without
   * parsing it or checking its signature again (the sending server checked both before it called
   * this). So whoever can put something in front of their watchers must be trusted as whoever can
   * write the storage's messages: a storage whose channel others can reach (any role connected to
   * a database may use its notifications, say) authenticates what it hands over.
   *
   * <p><b>Threads.</b> Called on the delivering plugin's threads, never a network event loop;
   * returns at once.
   *
   * @param recipients the local addresses the message went to, as given to {@link
   *     org.esmp.api.Mailboxes#deliverLive}
   * @param frame the message's whole {@code deliver} frame, {@code
   *     {"type":"deliver","cursor":null,…}} (ESMP/1 section 3): one JSON object in UTF-8, without
   *     the newline that ends it on the wire; the storage must not change it
   */
  default void publishLive(Collection<Address> recipients, byte[] frame) {}
}
