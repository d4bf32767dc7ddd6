package org.esmp.server.session;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.esmp.api.Address;
import org.esmp.api.Ed25519Key;
import org.esmp.api.ErrorCode;
import org.esmp.api.RejectedException;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.esmp.api.SignedMessage;
import org.esmp.api.spi.Storage;
import org.esmp.api.spi.StorageChange;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.crypto.Ed25519Verifier;
import org.esmp.server.limits.TokenBuckets;
import org.esmp.server.metrics.ServerMetrics;
import org.esmp.server.store.Commits;
import org.esmp.server.store.Retries;
import org.esmp.server.tls.ChannelBinding;

/**
 * Identities (ESMP/1 section 4): {@code auth}, {@code key_add}, {@code key_revoke} and
 * {@code lookup}. A key belongs to at most one address; an address has one or more keys.
 *
 * <p>Changes are checked and committed one at a time (an asynchronous queue, no thread blocks), so
 * two registrations of one address, or a revoke racing an add, never both pass their checks here.
 * That queue is a fast path only: each commit also expects the address's keys to be what the
 * checks saw, and the storage refuses to bind a key bound to another address, so a change made
 * meanwhile by another server on the same storage fails it with a conflict, and the change is
 * checked again on the new state.
 *
 * <p>Registrations are limited per IP and key changes per address, each per hour: past the limit
 * the change is answered {@code rate_limited}. Only changes that pass every other check count.
 *
 * <p>An address the operator disabled or removed ({@link AddressStates}) cannot {@code auth}: it is
 * answered {@code forbidden}, and a removed address is never registered again.
 */
public final class IdentityService {

  /** The wait suggested to an {@code auth} refused for its address's connection count. */
  private static final long CONNECTIONS_PER_ADDRESS_RETRY_MS = 5_000;

  private final ServerConfig config;
  private final Supplier<Storage> storage;
  private final Commits commits;
  private final SessionRegistry sessions;
  private final AddressStates states;
  private final Ed25519Verifier keys;
  private CompletableFuture<?> changes = CompletableFuture.completedFuture(null);
  private final TokenBuckets<InetAddress> registrations;
  private final TokenBuckets<Address> keyChanges;
  private final ServerMetrics metrics;

  /**
   * @param states the addresses the operator disabled or removed
   * @param keys checks the keys {@code key_add} binds and verifies their proofs
   * @param metrics counts the refusals of the registration, key change and connection limits
   */
  public IdentityService(ServerConfig config, Supplier<Storage> storage, Commits commits, SessionRegistry sessions,
      AddressStates states, Ed25519Verifier keys, ServerMetrics metrics) {
    this.config = config;
    this.metrics = metrics;
    this.storage = storage;
    this.commits = commits;
    this.sessions = sessions;
    this.states = states;
    this.keys = keys;
    this.registrations = TokenBuckets.ofServer(
        TokenBuckets.Rate.perHour(config.registrationsPerIpPerHour()));
    this.keyChanges = TokenBuckets.ofServer(
        TokenBuckets.Rate.perHour(config.keyChangesPerAddressPerHour()));
  }

  /** Null when {@code sender} may change a key now, else the {@code rate_limited} answer. */
  private Reply keyChangeLimit(Address sender) {
    long wait = keyChanges.take(sender, 1);
    if (wait == 0) {
      return null;
    }
    metrics.rateLimited(ServerMetrics.RateLimit.KEY_CHANGES);
    return Reply.rateLimited(wait, sender + " made " + config.keyChangesPerAddressPerHour()
        + " key changes in the last hour, the most this server allows; retry after " + wait + " ms");
  }

  /**
   * Runs {@code change} after every change of identities queued before it has finished, and again
   * (checks and all) when its commit conflicts with a change made elsewhere: the queue of the
   * protocol's identity changes, which the operator's changes ({@link
   * org.esmp.server.admin.AddressAdmin}) join.
   */
  public synchronized <T> CompletableFuture<T> serialized(Supplier<CompletionStage<T>> change) {
    CompletableFuture<T> next = changes.handle((ignored, failure) -> null)
        .thenCompose(ignored -> Retries.onConflict(change));
    changes = next;
    return next;
  }

  /** {@code auth}: proves the key answers this connection's challenge; may register the address. */
  public CompletionStage<Reply> auth(Request request, ConnectionSession session) {
    SignedMessage message = request.message();
    JsonObject body = objectBody(message, "auth body must be {\"address\",\"challenge\",\"domain\"}");
    String addressText = body.string("address").orElse(null);
    String challenge = body.string("challenge").orElse(null);
    String domain = body.string("domain").orElse(null);
    if (addressText == null || challenge == null || domain == null) {
      throw new RejectedException(ErrorCode.BAD_FIELD, "auth body needs address, challenge and domain strings");
    }
    Address address = address(addressText, "auth address");
    if (!challenge.equals(session.challenge())) {
      throw new RejectedException(ErrorCode.FORBIDDEN, "challenge is not the one this connection's hello sent");
    }
    if (!domain.equals(config.domain())) {
      throw new RejectedException(ErrorCode.FORBIDDEN, "domain is not the one this connection's hello sent");
    }
    ChannelBinding.check(body, session.tlsBinding());
    if (!config.serves(address.domain())) {
      throw new RejectedException(ErrorCode.FORBIDDEN, "this server does not serve " + address.domain());
    }
    if (session.address().filter(a -> !a.equals(address)).isPresent()) {
      throw new RejectedException(ErrorCode.FORBIDDEN, "this connection is authenticated as another address");
    }
    states.check(address);
    Ed25519Key key = message.senderKey();
    Storage store = storage.get();
    if (store.addressOf(key).filter(address::equals).isPresent()) {
      return CompletableFuture.completedFuture(accept(session, address, key, false));
    }
    return serialized(() -> {
      states.check(address); // again in turn: the operator may have removed it meanwhile
      Optional<Address> owner = store.addressOf(key);
      if (owner.filter(address::equals).isPresent()) {
        return CompletableFuture.completedFuture(accept(session, address, key, false));
      }
      if (owner.isPresent()) {
        throw new RejectedException(ErrorCode.FORBIDDEN, "key is bound to another address");
      }
      if (!store.keysOf(address).isEmpty()) {
        throw new RejectedException(ErrorCode.FORBIDDEN, "address is bound to other keys");
      }
      if (config.registration() == ServerConfig.Registration.CLOSED) {
        throw new RejectedException(ErrorCode.FORBIDDEN, "registration is closed on this server");
      }
      if (config.reserves(address.local())) {
        throw new RejectedException(ErrorCode.FORBIDDEN, "'" + address.local() + "' is a reserved name on this server");
      }
      long wait = registrations.take(session.remoteIp(), 1);
      if (wait > 0) {
        metrics.rateLimited(ServerMetrics.RateLimit.REGISTRATIONS);
        return CompletableFuture.completedFuture(Reply.rateLimited(wait, "this IP address registered "
            + config.registrationsPerIpPerHour() + " addresses in the last hour, the most this server allows; retry after "
            + wait + " ms"));
      }
      return commits.commitServerChange(StorageChange.builder().expectKeys(address, List.of()).bindKey(address, key))
          .thenApply(cursors -> accept(session, address, key, true));
    });
  }

  private Reply accept(ConnectionSession session, Address address, Ed25519Key key, boolean registered) {
    if (!sessions.admit(session, address)) {
      metrics.rateLimited(ServerMetrics.RateLimit.CONNECTIONS_PER_ADDRESS);
      return Reply.rateLimited(CONNECTIONS_PER_ADDRESS_RETRY_MS, address + " has " + config.maxConnectionsPerAddress()
          + " authenticated connections, the most this server allows; close one or retry later");
    }
    // Again once counted: an operator who disabled the address since the check above closes the
    // connections it counts after that, so this one is either refused here or closed then.
    try {
      states.check(address);
    } catch (RejectedException e) {
      session.close();
      throw e;
    }
    if (!session.authenticate(address, key)) {
      throw new RejectedException(ErrorCode.FORBIDDEN, "this connection is authenticated as another address");
    }
    sessions.authenticated(session, key);
    return Reply.ack(JsonObject.builder().put("address", address.toString()).put("registered", registered).build());
  }

  /**
   * {@code key_add}: binds another device key to the sender's address, once its {@code proof} shows
   * that whoever holds the new key agreed to be bound to this address by this signer (see
   * {@link #proofBytes}). Adding a key the address already has is an {@code ack}; a key bound to
   * another address, a proof that does not verify, a key that is not a prime-order curve point, or
   * an address already holding {@link ServerConfig#maxKeysPerAddress()} keys is {@code forbidden}.
   */
  public CompletionStage<Reply> addKey(Request request, ConnectionSession session) {
    Address sender = request.sender().orElseThrow();
    SignedMessage message = request.message();
    Ed25519Key key = keyOf(message);
    byte[] proof = proofOf(message);
    if (!keys.isValidKey(key)) {
      throw new RejectedException(ErrorCode.FORBIDDEN, "pubkey is not an Ed25519 curve point of prime order");
    }
    byte[] signed = proofBytes(sender, message.senderKey());
    if (!keys.verify(key, proof, signed, 0, signed.length)) {
      throw new RejectedException(ErrorCode.FORBIDDEN,
          "proof is not the new key's signature over \"esmp-key-add\\n\" + address + \"\\n\" + sender_pubkey");
    }
    Storage store = storage.get();
    return serialized(() -> {
      Optional<Address> owner = store.addressOf(key);
      if (owner.isPresent() && !owner.get().equals(sender)) {
        throw new RejectedException(ErrorCode.FORBIDDEN, "key is bound to another address");
      }
      List<Ed25519Key> current = store.keysOf(sender);
      if (owner.isEmpty() && current.size() >= config.maxKeysPerAddress()) {
        throw new RejectedException(ErrorCode.FORBIDDEN, sender + " already has " + config.maxKeysPerAddress()
            + " keys, the most this server allows: revoke one first");
      }
      Reply limited = owner.isEmpty() ? keyChangeLimit(sender) : null;
      if (limited != null) {
        return CompletableFuture.completedFuture(limited);
      }
      Reply ack = Reply.ack();
      StorageChange.Builder change = StorageChange.builder().expectKeys(sender, current);
      if (owner.isEmpty()) {
        change.bindKey(sender, key);
      }
      return commits.commitServerChange(request, change, ack).thenApply(cursors -> ack);
    });
  }

  /**
   * What the new key signs in a {@code key_add}'s proof: the UTF-8 bytes of
   * {@code "esmp-key-add\n" + ADDRESS + "\n" + SIGNER}, SIGNER being the base64 {@code sender_pubkey}
   * of the {@code key_add} (ESMP/1 section 4). Binding the signer as well as the address means a
   * proof seen once cannot be replayed by another key of the address after that key is revoked.
   */
  public static byte[] proofBytes(Address address, Ed25519Key signer) {
    return ("esmp-key-add\n" + address + "\n" + signer.base64()).getBytes(StandardCharsets.UTF_8);
  }

  /**
   * {@code key_revoke}: unbinds a key of the sender's address. Any key may revoke itself; only the
   * primary (the oldest) may revoke another; the last key cannot be revoked. Connections
   * authenticated with the revoked key are closed.
   */
  public CompletionStage<Reply> revokeKey(Request request, ConnectionSession session) {
    Address sender = request.sender().orElseThrow();
    Ed25519Key signer = request.message().senderKey();
    Ed25519Key key = keyOf(request.message());
    Storage store = storage.get();
    return serialized(() -> {
      List<Ed25519Key> keys = store.keysOf(sender);
      if (!keys.contains(key)) {
        throw new RejectedException(ErrorCode.BAD_FIELD, "pubkey is not a key of " + sender);
      }
      if (keys.size() == 1) {
        throw new RejectedException(ErrorCode.FORBIDDEN, "cannot revoke the last key of an address");
      }
      if (!key.equals(signer) && !keys.get(0).equals(signer)) {
        throw new RejectedException(ErrorCode.FORBIDDEN, "only the primary key of " + sender
            + " (its oldest) may revoke another of its keys; a key may always revoke itself");
      }
      Reply limited = keyChangeLimit(sender);
      if (limited != null) {
        return CompletableFuture.completedFuture(limited);
      }
      Reply ack = Reply.ack();
      StorageChange.Builder change = StorageChange.builder().expectKeys(sender, keys).unbindKey(sender, key);
      return commits.commitServerChange(request, change, ack).thenApply(cursors -> {
        sessions.closeAll(key, session, request.message().id());
        return ack;
      });
    });
  }

  /** {@code lookup}: the keys of an address, {@code []} when it does not exist. */
  public CompletionStage<Reply> lookup(Request request, ConnectionSession session) {
    JsonObject body = objectBody(request.message(), "lookup body must be {\"address\":ADDRESS}");
    Address address = address(body.string("address").orElse(""), "lookup address");
    List<String> keys = storage.get().keysOf(address).stream().map(Ed25519Key::base64).toList();
    return CompletableFuture.completedFuture(Reply.result("keys",
        JsonObject.builder().put("address", address.toString()).put("keys", JsonArray.ofStrings(keys)).build()));
  }

  private static Ed25519Key keyOf(SignedMessage message) {
    JsonObject body = objectBody(message, message.type() + " body must be {\"pubkey\":BASE64}");
    try {
      return Ed25519Key.fromBase64(body.string("pubkey").orElse(""));
    } catch (IllegalArgumentException e) {
      throw new RejectedException(ErrorCode.BAD_FIELD, "pubkey must be the standard padded base64 of 32 bytes");
    }
  }

  private static byte[] proofOf(SignedMessage message) {
    String text = message.body().asObject().string("proof").orElse(null);
    if (text == null) {
      throw new RejectedException(ErrorCode.BAD_FIELD, "key_add body needs \"proof\": the new key's signature, base64");
    }
    byte[] proof;
    try {
      proof = Base64.getDecoder().decode(text);
    } catch (IllegalArgumentException e) {
      proof = null;
    }
    if (proof == null || proof.length != Ed25519Verifier.SIGNATURE_LENGTH
        || !Base64.getEncoder().encodeToString(proof).equals(text)) {
      throw new RejectedException(ErrorCode.BAD_FIELD, "proof must be the standard padded base64 of 64 bytes");
    }
    return proof;
  }

  private static JsonObject objectBody(SignedMessage message, String expectation) {
    JsonObject body = message.body().asObject();
    if (body == null) {
      throw new RejectedException(ErrorCode.BAD_FIELD, expectation);
    }
    return body;
  }

  private static Address address(String text, String what) {
    if (!Address.isValid(text)) {
      throw new RejectedException(ErrorCode.BAD_FIELD, what + " is not an address (local#domain, lowercase)");
    }
    return Address.parse(text);
  }
}
