package org.esmp.server.federation;

import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.esmp.api.Address;
import org.esmp.api.ErrorCode;
import org.esmp.api.RejectedException;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.esmp.api.SignedMessage;
import org.esmp.api.json.JsonObject;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.session.ConnectionSession;
import org.esmp.server.tls.ChannelBinding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code auth} of another server (ESMP/1 section 8): body {@code {"server":DOMAIN,"challenge":C,
 * "domain":THIS}}, signed by that server's key, which the relay trusts for the domain (pinned,
 * remembered, or learned from that domain's own endpoint). The connection is then that server's:
 * it may send {@code relay} frames.
 */
public final class PeerAuth {

  private static final Logger log = LoggerFactory.getLogger(PeerAuth.class);

  private final ServerConfig config;
  private final Relays relays;

  public PeerAuth(ServerConfig config, Relays relays) {
    this.config = config;
    this.relays = relays;
  }

  /** Whether {@code request} is a server's {@code auth}, not a client's: its body names a server. */
  public static boolean isPeerAuth(Request request) {
    JsonObject body = request.message().body().asObject();
    return body != null && body.has("server");
  }

  /** Authenticates the connection as the server the body names, or refuses with {@code forbidden}. */
  public CompletionStage<Reply> auth(Request request, ConnectionSession session) {
    SignedMessage message = request.message();
    JsonObject body = message.body().asObject();
    String server = body.string("server").orElse(null);
    String challenge = body.string("challenge").orElse(null);
    String domain = body.string("domain").orElse(null);
    if (server == null || challenge == null || domain == null || !Address.isDomain(server)) {
      throw new RejectedException(ErrorCode.BAD_FIELD,
          "a server's auth body needs server (a domain), challenge and domain strings");
    }
    if (!challenge.equals(session.challenge())) {
      throw new RejectedException(ErrorCode.FORBIDDEN, "challenge is not the one this connection's hello sent");
    }
    if (!domain.equals(config.domain())) {
      throw new RejectedException(ErrorCode.FORBIDDEN, "domain is not the one this connection's hello sent");
    }
    ChannelBinding.check(body, session.tlsBinding());
    if (config.serves(server)) {
      throw new RejectedException(ErrorCode.FORBIDDEN, server + " is served by this server itself");
    }
    return relays.peerKey(server).handle((key, failure) -> {
      if (failure != null) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        log.warn("Federation: refused the auth of a server claiming {} from {}: no key of it can be trusted ({})",
            server, session.remoteIp().getHostAddress(), cause.getMessage());
        throw new RejectedException(ErrorCode.FORBIDDEN, "no server key of " + server + " is trusted here");
      }
      if (!key.equals(message.senderKey())) {
        log.error("Federation: refused the auth of a server claiming {} from {}: it signed with key {}, but {} is "
            + "trusted for {}. If {} really changed its key, update its pin (peers: key) or forget the remembered one",
            server, session.remoteIp().getHostAddress(), message.senderKey().base64(), key.base64(), server, server);
        throw new RejectedException(ErrorCode.FORBIDDEN, "this is not the server key trusted for " + server);
      }
      if (!session.authenticatePeer(new ConnectionSession.Peer(server, key))) {
        throw new RejectedException(ErrorCode.FORBIDDEN, "this connection is authenticated as someone else");
      }
      log.info("Federation: {} authenticated from {}{}", server, session.remoteIp().getHostAddress(),
          session.tlsBinding().isPresent() ? " over TLS" : "");
      relays.peerSeen(server);
      return Reply.ack(JsonObject.builder().put("server", server).build());
    });
  }
}
