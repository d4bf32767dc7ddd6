package org.esmp.server.session;

import java.time.Clock;
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
import org.esmp.api.Storage;
import org.esmp.api.StorageChange;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;
import org.esmp.server.config.ServerConfig;

/**
 * Identities (ESMP/1 section 4): {@code auth}, {@code key_add}, {@code key_revoke} and
 * {@code lookup}. A key belongs to at most one address; an address has one or more keys.
 *
 * <p>Changes are checked and committed one at a time (an asynchronous queue, no thread blocks), so
 * two registrations of one address, or a revoke racing an add, can never both pass their checks.
 */
public final class IdentityService {

  private final ServerConfig config;
  private final Supplier<Storage> storage;
  private final SessionRegistry sessions;
  private final Clock clock;
  private CompletableFuture<?> changes = CompletableFuture.completedFuture(null);

  public IdentityService(ServerConfig config, Supplier<Storage> storage, SessionRegistry sessions, Clock clock) {
    this.config = config;
    this.storage = storage;
    this.sessions = sessions;
    this.clock = clock;
  }

  /** Runs {@code change} after every change queued before it has finished. */
  private synchronized <T> CompletableFuture<T> serialized(Supplier<CompletionStage<T>> change) {
    CompletableFuture<T> next = changes.handle((ignored, failure) -> null).thenCompose(ignored -> change.get());
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
    if (!config.serves(address.domain())) {
      throw new RejectedException(ErrorCode.FORBIDDEN, "this server does not serve " + address.domain());
    }
    if (session.address().filter(a -> !a.equals(address)).isPresent()) {
      throw new RejectedException(ErrorCode.FORBIDDEN, "this connection is authenticated as another address");
    }
    Ed25519Key key = message.senderKey();
    Storage store = storage.get();
    if (store.addressOf(key).filter(address::equals).isPresent()) {
      return CompletableFuture.completedFuture(accept(session, address, key, false));
    }
    return serialized(() -> {
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
      return store.commit(StorageChange.builder().bindKey(address, key).build())
          .thenApply(cursors -> accept(session, address, key, true));
    });
  }

  private Reply accept(ConnectionSession session, Address address, Ed25519Key key, boolean registered) {
    if (!session.authenticate(address, key)) {
      throw new RejectedException(ErrorCode.FORBIDDEN, "this connection is authenticated as another address");
    }
    sessions.authenticated(session, key);
    return Reply.ack(JsonObject.builder().put("address", address.toString()).put("registered", registered).build());
  }

  /** {@code key_add}: binds another device key to the sender's address. */
  public CompletionStage<Reply> addKey(Request request, ConnectionSession session) {
    Address sender = request.sender().orElseThrow();
    Ed25519Key key = keyOf(request.message());
    Storage store = storage.get();
    return serialized(() -> {
      Optional<Address> owner = store.addressOf(key);
      if (owner.isPresent() && !owner.get().equals(sender)) {
        throw new RejectedException(ErrorCode.FORBIDDEN, "key is bound to another address");
      }
      Reply ack = Reply.ack();
      StorageChange.Builder change = StorageChange.builder()
          .accept(request.message().id(), clock.millis(), ack.fields());
      if (owner.isEmpty()) {
        change.bindKey(sender, key);
      }
      return store.commit(change.build()).thenApply(cursors -> ack);
    });
  }

  /** {@code key_revoke}: unbinds a key of the sender's address, never its last one. */
  public CompletionStage<Reply> revokeKey(Request request, ConnectionSession session) {
    Address sender = request.sender().orElseThrow();
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
      Reply ack = Reply.ack();
      StorageChange change = StorageChange.builder()
          .unbindKey(sender, key)
          .accept(request.message().id(), clock.millis(), ack.fields())
          .build();
      return store.commit(change).thenApply(cursors -> {
        sessions.closeAll(key);
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
