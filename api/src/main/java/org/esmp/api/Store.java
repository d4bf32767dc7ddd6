package org.esmp.api;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * What a plugin keeps, through the server: values in its own key-value spaces, and entries it
 * appends to mailboxes. Each plugin gets its own {@code Store} from {@link ServerContext#store()}.
 * Identities, the records of accepted messages and mailbox cursors are the server's alone: a
 * plugin neither reads nor writes them here.
 *
 * <p><b>Spaces.</b> A plugin's spaces are named after it: its plugin id, or its id followed by
 * {@code '.'} and more (plugin {@code group-threads}: {@code group-threads.thread}). Any other
 * space is refused with {@link IllegalArgumentException}. A space name has no NUL character.
 *
 * <p><b>Visibility.</b> Reads see committed values only: a value is never seen before it is
 * durable.
 *
 * <p><b>Commits.</b> Every commit is atomic and durable before its stage completes. Its mailbox
 * appends are pushed to the connections that follow those mailboxes after that, by the server: a
 * plugin has no other way to append, so no entry is stored without being pushed. The stage
 * completes on a server worker thread; it fails with {@link ConflictException} when a condition
 * of the writes did not hold (re-read and retry), with {@link DuplicateException} when the
 * message was accepted already (let it through: the server answers), or with another exception
 * when the storage could not store the writes (let it through: the server answers
 * {@code internal}). Nothing is applied when it fails.
 *
 * <p><b>Threads.</b> Thread-safe. Reads answer from memory or the page cache, without waiting for
 * a disk; commits never block.
 */
public interface Store {

  /** The value under {@code key} in {@code space}, if any; a copy the caller may keep. */
  Optional<byte[]> get(String space, String key);

  /**
   * Values of {@code space} with keys from {@code fromKey} (inclusive) to {@code toKey}
   * (exclusive), in key order; at most {@code limit}. (Ascending only: choose keys whose ranges
   * you can compute, such as zero-padded sequence numbers, to read backwards in windows.)
   */
  List<Stored> scan(String space, String fromKey, String toKey, int limit);

  /**
   * The entry kept under {@code key} in {@code space} ({@link Writes.Keep}), if any, with cursor 0
   * (since 1.1). {@link #get} and {@link #scan} see values only, never kept entries.
   */
  default Optional<MailboxEntry> entry(String space, String key) {
    throw new UnsupportedOperationException("kept entries need a server with plugin API 1.1");
  }

  /**
   * Entries kept in {@code space} ({@link Writes.Keep}) with keys from {@code fromKey} (inclusive)
   * to {@code toKey} (exclusive), in key order, each with cursor 0; at most {@code limit} (since
   * 1.1).
   */
  default List<MailboxEntry> entries(String space, String fromKey, String toKey, int limit) {
    throw new UnsupportedOperationException("kept entries need a server with plugin API 1.1");
  }

  /**
   * Commits the effects of handling {@code request}, a message the server handed to this plugin,
   * together with the record that the message was accepted with {@code answer} when its type is
   * deduplicated (every type but the session types, ESMP/1 section 2.2) and {@code answer} is an
   * {@code ack}: a resend then gets {@code answer} again, with {@code "duplicate":true}. Only the
   * first commit of a request that succeeds records it.
   *
   * @param answer the {@code ack} the plugin will answer once the commit is durable
   * @return completes once durable, with the cursor assigned to each append, in order
   * @throws IllegalArgumentException (or fails with it) when {@code request} is not one the server
   *     handed to a plugin, or a space is not this plugin's
   */
  CompletionStage<List<Long>> commit(Request request, Writes writes, Reply answer);

  /**
   * Commits writes that answer no message (a plugin's own housekeeping, say). Appends are pushed as
   * for {@link #commit(Request, Writes, Reply)}.
   *
   * @return completes once durable, with the cursor assigned to each append, in order
   */
  CompletionStage<List<Long>> commit(Writes writes);
}
