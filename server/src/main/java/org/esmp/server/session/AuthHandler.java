package org.esmp.server.session;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.esmp.api.Address;
import org.esmp.api.Ed25519Key;
import org.esmp.api.ErrorCode;
import org.esmp.api.RejectedException;
import org.esmp.api.Reply;
import org.esmp.api.SignedMessage;
import org.esmp.api.Storage;
import org.esmp.api.json.JsonObject;
import org.esmp.server.config.ServerConfig;

/**
 * The {@code auth} message (ESMP/1 section 4): proves the key holder answers this connection's
 * challenge, binds a new address to the key when registration is open, and marks the connection
 * as authenticated.
 */
public final class AuthHandler {

  private final ServerConfig config;

  public AuthHandler(ServerConfig config) {
    this.config = config;
  }

  /** Handles one verified {@code auth} message that arrived on {@code session}. */
  public CompletionStage<Reply> handle(SignedMessage message, ConnectionSession session, Storage storage) {
    JsonObject body = message.body().asObject();
    if (body == null) {
      throw new RejectedException(ErrorCode.BAD_FIELD, "auth body must be {\"address\",\"challenge\",\"domain\"}");
    }
    String addressText = body.string("address").orElse(null);
    String challenge = body.string("challenge").orElse(null);
    String domain = body.string("domain").orElse(null);
    if (addressText == null || challenge == null || domain == null) {
      throw new RejectedException(ErrorCode.BAD_FIELD, "auth body needs address, challenge and domain strings");
    }
    if (!Address.isValid(addressText)) {
      throw new RejectedException(ErrorCode.BAD_FIELD, "auth address is not an address (local#domain, lowercase)");
    }
    Address address = Address.parse(addressText);
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
    if (storage.addressOf(key).filter(address::equals).isPresent()) {
      return CompletableFuture.completedFuture(accept(session, address, false));
    }
    if (config.registration() == ServerConfig.Registration.CLOSED) {
      throw new RejectedException(ErrorCode.FORBIDDEN, "registration is closed on this server");
    }
    return storage.register(address, key).thenApply(outcome -> switch (outcome) {
      case CREATED -> accept(session, address, true);
      case ALREADY_BOUND -> accept(session, address, false);
      case ADDRESS_TAKEN -> throw new RejectedException(ErrorCode.FORBIDDEN, "address is bound to other keys");
      case KEY_TAKEN -> throw new RejectedException(ErrorCode.FORBIDDEN, "key is bound to another address");
    });
  }

  private static Reply accept(ConnectionSession session, Address address, boolean registered) {
    if (!session.authenticate(address)) {
      throw new RejectedException(ErrorCode.FORBIDDEN, "this connection is authenticated as another address");
    }
    return Reply.ack(JsonObject.builder().put("address", address.toString()).put("registered", registered).build());
  }
}
