package org.esmp.server.mailbox;

import io.netty.buffer.ByteBuf;
import java.util.Collection;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.esmp.api.Address;
import org.esmp.api.ErrorCode;
import org.esmp.api.MailboxEntry;
import org.esmp.api.RejectedException;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.esmp.api.SignedMessage;
import org.esmp.api.spi.MailboxWatcher;
import org.esmp.api.spi.Storage;
import org.esmp.api.json.JsonNumber;
import org.esmp.api.json.JsonObject;
import org.esmp.server.session.ConnectionSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mailboxes (ESMP/1 section 4): {@code sync}, and live push to every connection that synced an
 * address, of what {@link org.esmp.server.store.Commits} committed and of ephemeral messages.
 */
public final class MailboxService {

  private static final Logger log = LoggerFactory.getLogger(MailboxService.class);

  private final Supplier<Storage> storage;
  private final Executor workers;
  private final Map<Address, Set<Subscription>> subscriptions = new ConcurrentHashMap<>();

  /** @param workers where backlog pages are read (never an event loop) */
  public MailboxService(Supplier<Storage> storage, Executor workers) {
    this.storage = storage;
    this.workers = workers;
  }

  /**
   * Pushes the message of {@code request} to the recipients' connected, synced sessions without
   * storing it (for ephemeral types), with {@code "cursor":null}; and, on a storage several servers
   * share ({@link Storage#shared}), hands the same frame to it for the others ({@link
   * Storage#publishLive}). Never blocks: the storage only queues it.
   */
  public void deliverLive(Request request, Collection<Address> recipients) {
    SignedMessage message = request.message();
    Address from = request.sender().orElseThrow(() -> new IllegalArgumentException("no sender address"));
    // Group traffic names its group, as any group delivery does; it has no seq: it is not in the thread.
    EncodedEntry entry = new EncodedEntry(new MailboxEntry(0, message.id(), from, request.receivedAt(),
        message.fields(), message.groupId(), OptionalLong.empty()));
    Set<Address> distinct = Set.copyOf(recipients);
    pushLive(distinct, () -> entry.frame(0)); // encoded once, for the first
    Storage shared = storage.get();
    if (distinct.isEmpty() || !shared.shared()) {
      return; // no other server to tell: the frame is not copied for nothing
    }
    try {
      shared.publishLive(distinct, entry.liveFrame());
    } catch (RuntimeException e) {
      // Best effort, as the push itself: the message was delivered here.
      log.warn("Handing ephemeral message {} to the other servers failed: {}", message.id(), e.toString());
    }
  }

  /**
   * Writes {@code frame}, an ephemeral message another server delivered ({@link
   * MailboxWatcher#live}), to the connections here following {@code recipients}' mailboxes, as it
   * is: it is not parsed again, only checked to be one {@code "cursor":null} frame on one line.
   */
  private void deliverLive(Collection<Address> recipients, byte[] frame) {
    if (!Deliveries.isLiveFrame(frame)) {
      log.warn("Ignored an ephemeral message from another server: {} bytes that are not one deliver frame",
          frame.length);
      return;
    }
    pushLive(Set.copyOf(recipients), () -> Deliveries.liveFrameWithNewline(frame));
  }

  /** Writes {@code frame}'s frames to the connections here following each of {@code recipients}' mailboxes. */
  private void pushLive(Set<Address> recipients, Supplier<ByteBuf> frame) {
    for (Address recipient : recipients) {
      for (Subscription subscription : subscriptions.getOrDefault(recipient, Set.of())) {
        subscription.session.send(frame.get());
      }
    }
  }

  /**
   * Hands an entry just committed at {@code cursor} in {@code address}'s mailbox to every connection
   * following it. A connection whose push fails is closed (its client syncs again); it never keeps
   * the others from getting the entry. On a worker: the entry's frame is encoded here the first
   * time, for every mailbox it went to.
   */
  public void publish(Address address, long cursor, EncodedEntry entry) {
    for (Subscription subscription : subscriptions.getOrDefault(address, Set.of())) {
      try {
        subscription.offer(cursor, entry);
      } catch (RuntimeException e) {
        log.warn("Connection {}: pushing entry {} of {} failed; closing it", subscription.session, cursor,
            address, e);
        subscription.stop();
        subscription.session.close();
      }
    }
  }

  /**
   * What a storage shared with other servers calls with their appends: each connection here that
   * follows such a mailbox reads it from the storage up to the hinted cursor; after missed hints,
   * every followed mailbox is read up to its last cursor. Their ephemeral messages are pushed as
   * they come.
   */
  public MailboxWatcher watcher() {
    return new MailboxWatcher() {
      @Override
      public void appended(Address address, long cursor) {
        for (Subscription subscription : subscriptions.getOrDefault(address, Set.of())) {
          subscription.hint(cursor);
        }
      }

      @Override
      public void missed() {
        workers.execute(() -> subscriptions.forEach((address, following) -> {
          long last;
          try {
            last = storage.get().lastCursor(address);
          } catch (RuntimeException e) {
            log.warn("Reading the last cursor of {} after missed notices failed: {}", address, e.toString());
            return;
          }
          following.forEach(subscription -> subscription.hint(last));
        }));
      }

      @Override
      public void live(Collection<Address> recipients, byte[] frame) {
        deliverLive(recipients, frame);
      }
    };
  }

  /**
   * {@code sync} (body {@code {"since":N}}): sends the backlog after N, answers {@code synced}, and
   * keeps the connection following the mailbox.
   */
  public CompletionStage<Reply> sync(Request request, ConnectionSession session) {
    Address address = session.address().orElseThrow(
        () -> new RejectedException(ErrorCode.AUTH_REQUIRED, "sync needs auth on this connection"));
    if (!request.sender().map(address::equals).orElse(false)) {
      throw new RejectedException(ErrorCode.FORBIDDEN, "sync must be signed by a key of the connection's address");
    }
    JsonObject body = request.message().body().asObject();
    JsonNumber since = body == null ? null : body.get("since") instanceof JsonNumber n ? n : null;
    if (since == null || !since.isSafeInteger() || since.longValue() < 0) {
      throw new RejectedException(ErrorCode.BAD_FIELD, "sync body must be {\"since\":N}, N a cursor (0 for all)");
    }
    Storage store = storage.get();
    session.markSynced();
    Subscription subscription = new Subscription(address, session, store, workers);
    // Follow first, then read the last cursor: an entry committed meanwhile is offered to the
    // subscription, which sends it after the backlog. No gap.
    follow(subscription);
    session.onClose(() -> unfollow(subscription));
    long last = store.lastCursor(address);
    return subscription.start(Math.min(since.longValue(), last), last)
        .handle((cursor, failure) -> {
          if (failure != null) {
            unfollow(subscription);
            throw new RejectedException(ErrorCode.INTERNAL, "connection closed or storage failed during sync");
          }
          return Reply.result("synced", JsonObject.builder().put("cursor", cursor).build());
        });
  }

  /**
   * Adds {@code subscription} to its address's followers, in place of an earlier one of the same
   * connection (a second sync restarts from its cursor). Atomic with {@link #unfollow}: a
   * subscription is never added to a set that was just dropped from the map.
   */
  private void follow(Subscription subscription) {
    subscriptions.compute(subscription.address, (a, set) -> {
      Set<Subscription> following = set != null ? set : ConcurrentHashMap.newKeySet();
      following.removeIf(earlier -> {
        if (earlier.session != subscription.session) {
          return false;
        }
        earlier.stop();
        return true;
      });
      following.add(subscription);
      return following;
    });
  }

  private void unfollow(Subscription subscription) {
    subscription.stop();
    subscriptions.computeIfPresent(subscription.address, (a, set) -> {
      set.remove(subscription);
      return set.isEmpty() ? null : set;
    });
  }
}
