package org.esmp.server.federation;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.esmp.api.Address;
import org.esmp.api.DuplicateException;
import org.esmp.api.ErrorCode;
import org.esmp.api.MailboxEntry;
import org.esmp.api.MessageId;
import org.esmp.api.RejectedException;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.esmp.api.SignedMessage;
import org.esmp.api.json.JsonNumber;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonValue;
import org.esmp.api.spi.Storage;
import org.esmp.api.spi.StorageChange;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.limits.TokenBuckets;
import org.esmp.server.session.ConnectionSession;
import org.esmp.server.store.Commits;
import org.esmp.server.verify.FrameVerifier;
import org.esmp.server.verify.Verdict;

/**
 * {@code relay} frames from another server (ESMP/1 section 8), on a connection that authenticated
 * as that server ({@link PeerAuth}); the dispatcher checked that the frame is signed by its key.
 * Then, in order: the peer's rate (once a relay is refused for it, every later one on the connection
 * is too, so that none overtakes it), {@code from} of a domain the peer serves, the relayed message's
 * own checks (signature first), and its {@code from} field if it has one. Then one of two kinds:
 *
 * <ul>
 *   <li>a <b>delivery</b> ({@code to} names one address here, with {@code group_id} and {@code seq}
 *       for a thread entry): the entry goes into that mailbox, once: a repeat of the same message for
 *       the same address is answered as a duplicate. A thread entry also tells this server the
 *       group's home;
 *   <li>a <b>forward</b> ({@code to} empty): the relayed message is processed as one from
 *       {@code from}, and its answer is the relay's.
 * </ul>
 */
public final class InboundRelays {

  /** Processes a forwarded message as one from {@code from}, sent by {@code peer}; completes with its answer. */
  @FunctionalInterface
  public interface Forwarded {
    CompletionStage<Reply> process(SignedMessage message, Address from, ConnectionSession.Peer peer,
        ConnectionSession session, long receivedAt);
  }

  private final ServerConfig config;
  private final Supplier<Storage> storage;
  private final Commits commits;
  private final FrameVerifier verifier;
  private final GroupHomes homes;
  private final Forwarded forwarded;
  private final TokenBuckets<String> peerRates;
  private final Relays relays;
  private final Predicate<String> localGroup;

  /**
   * @param localGroup whether a group lives on this server: another server's thread entries for it
   *     are refused
   */
  public InboundRelays(ServerConfig config, Supplier<Storage> storage, Commits commits, FrameVerifier verifier,
      GroupHomes homes, Relays relays, Predicate<String> localGroup, Forwarded forwarded) {
    this.relays = relays;
    this.localGroup = localGroup;
    this.config = config;
    this.storage = storage;
    this.commits = commits;
    this.verifier = verifier;
    this.homes = homes;
    this.forwarded = forwarded;
    this.peerRates = TokenBuckets.ofServer(TokenBuckets.Rate.perSecond(
        config.peering().peerMessagesPerSecond(), config.peering().peerMessagesBurst()));
  }

  /**
   * Checks the sender of a {@code relay}: a server authenticated on this connection, signing with its
   * key. Called by the dispatcher where it checks a client's key.
   */
  public static ConnectionSession.Peer checkSender(SignedMessage relay, ConnectionSession session) {
    ConnectionSession.Peer peer = session.peer().orElseThrow(() -> new RejectedException(ErrorCode.AUTH_REQUIRED,
        "relay needs a server's auth on this connection"));
    if (!peer.key().equals(relay.senderKey())) {
      throw new RejectedException(ErrorCode.FORBIDDEN, "a relay must be signed by the key of the server "
          + peer.domain() + " this connection authenticated as");
    }
    return peer;
  }

  /** Answers one {@code relay}. */
  public CompletionStage<Reply> relay(Request request, ConnectionSession session) {
    ConnectionSession.Peer peer = checkSender(request.message(), session);
    OptionalLong held = session.relaysHeld();
    if (held.isPresent()) {
      return CompletableFuture.completedFuture(Reply.rateLimited(held.getAsLong(),
          "a relay before this one on the connection was refused: reconnect and send again from it"));
    }
    long wait = peerRates.take(peer.domain(), 1);
    if (wait > 0) {
      session.holdRelays(wait);
      return CompletableFuture.completedFuture(Reply.rateLimited(wait, "too many relays from " + peer.domain()
          + "; retry after " + wait + " ms, from this relay on"));
    }
    SignedMessage relay = request.message();
    JsonObject fields = relay.fields();
    String fromText = fields.string("from").orElseThrow(
        () -> new RejectedException(ErrorCode.BAD_FIELD, "relay needs from, the sender's address"));
    if (!Address.isValid(fromText)) {
      throw new RejectedException(ErrorCode.BAD_FIELD, "relay from is not an address");
    }
    Address from = Address.parse(fromText);
    if (!(fields.get("message") instanceof JsonObject inner)) {
      throw new RejectedException(ErrorCode.BAD_FIELD, "relay needs message, the signed message relayed");
    }
    boolean threadEntry = !relay.to().isEmpty() && relay.groupId().isPresent();
    CompletionStage<Void> vouched;
    if (threadEntry) {
      // A group's home relays its thread, whoever of any domain wrote the entry: it vouches for it.
      String group = relay.groupId().get();
      if (localGroup.test(group)) {
        throw new RejectedException(ErrorCode.FORBIDDEN, "group " + group + " lives on this server");
      }
      Optional<String> home = homes.homeOf(group);
      if (home.isPresent() && !home.get().equals(peer.domain())) {
        throw new RejectedException(ErrorCode.FORBIDDEN, "the home of group " + group + " is " + home.get()
            + ", not " + peer.domain());
      }
      vouched = CompletableFuture.completedFuture(null);
    } else {
      vouched = checkServes(peer, from);
    }
    return vouched.thenCompose(ok -> {
      Verdict verdict = verifier.check(inner);
      if (verdict instanceof Verdict.Refused refused) {
        return CompletableFuture.completedFuture(Reply.error(refused.code(), "the relayed message: " + refused.reason()));
      }
      SignedMessage message = ((Verdict.Verified) verdict).message();
      if (message.fields().has("from") && !fromText.equals(message.fields().get("from").asString())) {
        throw new RejectedException(ErrorCode.FORBIDDEN, "the relayed message's from is not the relay's from");
      }
      if (relay.to().isEmpty()) {
        return forwarded.process(message, from, peer, session, request.receivedAt());
      }
      return deliver(relay, message, from, peer, request.receivedAt());
    });
  }

  /**
   * Completes when {@code peer} serves {@code from}'s domain: the one it authenticated as, one
   * configured with the same pinned key, or one whose trusted key (asked of the relay: pinned,
   * remembered or learned from that domain's endpoint) is the peer's. Else fails {@code forbidden}.
   */
  private CompletionStage<Void> checkServes(ConnectionSession.Peer peer, Address from) {
    String domain = from.domain();
    if (domain.equals(peer.domain())
        || config.peering().peer(domain).flatMap(ServerConfig.Peer::pin).filter(peer.key()::equals).isPresent()) {
      return CompletableFuture.completedFuture(null);
    }
    RejectedException refused = new RejectedException(ErrorCode.FORBIDDEN, peer.domain() + " does not serve "
        + domain + ": it cannot relay for " + from);
    if (config.serves(domain)) {
      return CompletableFuture.failedFuture(refused);
    }
    return relays.peerKey(domain).handle((key, failure) -> {
      if (failure != null || !peer.key().equals(key)) {
        throw refused;
      }
      return null;
    });
  }

  /**
   * Delivers to each distinct address of the relay's {@code to}: into its mailbox once (each
   * recipient in a commit of its own, recorded under {@link #deliveryId}), {@code rejected} when it
   * does not exist. Answer: {@code ack}, {@code "duplicate":true} when every recipient had it
   * already; {@code unknown_recipient} when none exists.
   */
  private CompletionStage<Reply> deliver(SignedMessage relay, SignedMessage message, Address from,
      ConnectionSession.Peer peer, long receivedAt) {
    Set<Address> to = new LinkedHashSet<>(relay.to());
    for (Address recipient : to) {
      if (!config.serves(recipient.domain())) {
        throw new RejectedException(ErrorCode.BAD_FIELD, "this server does not serve " + recipient.domain());
      }
    }
    if (to.size() > config.maxRecipients()) {
      throw new RejectedException(ErrorCode.TOO_MANY_RECIPIENTS,
          to.size() + " distinct recipients; at most " + config.maxRecipients());
    }
    Optional<String> groupId = relay.groupId();
    OptionalLong seq = seq(relay.fields().get("seq"));
    if (groupId.isPresent() != seq.isPresent()) {
      throw new RejectedException(ErrorCode.BAD_FIELD, "a thread entry's relay has group_id and seq, a direct one neither");
    }
    Storage store = storage.get();
    MailboxEntry entry = new MailboxEntry(0, message.id(), from, receivedAt, message.fields(), groupId, seq);
    JsonObject.Builder rejected = JsonObject.builder();
    List<CompletableFuture<Boolean>> stored = new ArrayList<>();
    for (Address recipient : to) {
      MessageId once = deliveryId(message.id(), recipient);
      if (store.acceptedAnswer(once).isPresent()) {
        stored.add(CompletableFuture.completedFuture(false));
      } else if (store.keysOf(recipient).isEmpty()) {
        rejected.put(recipient.toString(), ErrorCode.UNKNOWN_RECIPIENT.wire());
      } else {
        stored.add(store(recipient, entry, once, groupId, peer, receivedAt));
      }
    }
    JsonObject rejections = rejected.build();
    if (stored.isEmpty()) {
      throw new RejectedException(ErrorCode.UNKNOWN_RECIPIENT, "no recipient exists");
    }
    return CompletableFuture.allOf(stored.toArray(CompletableFuture[]::new)).thenApply(done -> {
      boolean anyNew = stored.stream().anyMatch(CompletableFuture::join);
      JsonObject.Builder ack = JsonObject.builder();
      if (!anyNew) {
        ack.put("duplicate", true);
      }
      if (!rejections.isEmpty()) {
        ack.put("rejected", rejections);
      }
      return Reply.ack(ack.build());
    });
  }

  /** Stores {@code entry} for {@code recipient} once; completes with whether this call stored it. */
  private CompletableFuture<Boolean> store(Address recipient, MailboxEntry entry, MessageId once,
      Optional<String> groupId, ConnectionSession.Peer peer, long receivedAt) {
    StorageChange.Builder change = StorageChange.builder().append(recipient, entry)
        .accept(once, receivedAt, JsonObject.empty());
    groupId.ifPresent(group -> homes.record(change, group, peer.domain()));
    return commits.commitServerChange(change).handle((cursors, failure) -> {
      if (failure == null) {
        groupId.ifPresent(group -> homes.recorded(group, peer.domain()));
        return true;
      }
      Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
      if (cause instanceof DuplicateException) {
        return false;
      }
      throw failure instanceof CompletionException completion ? completion : new CompletionException(cause);
    }).toCompletableFuture();
  }

  private static OptionalLong seq(JsonValue value) {
    if (value == null) {
      return OptionalLong.empty();
    }
    if (!(value instanceof JsonNumber number) || !number.isSafeInteger() || number.longValue() < 1) {
      throw new RejectedException(ErrorCode.BAD_FIELD, "seq must be a whole number from 1");
    }
    return OptionalLong.of(number.longValue());
  }

  /**
   * The id under which a relayed message's delivery to {@code recipient} is recorded: one per
   * message and recipient, so a resend is stored once and another recipient of it still gets it.
   */
  static MessageId deliveryId(MessageId message, Address recipient) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      byte[] digest = sha.digest(("esmp-relayed\n" + message.hex() + "\n" + recipient).getBytes(StandardCharsets.UTF_8));
      return new MessageId(HexFormat.of().formatHex(digest));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }
}
