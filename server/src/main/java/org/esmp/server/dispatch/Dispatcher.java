package org.esmp.server.dispatch;

import java.time.Clock;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.esmp.api.Address;
import org.esmp.api.Delivery;
import org.esmp.api.ErrorCode;
import org.esmp.api.MessageId;
import org.esmp.api.RejectedException;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.esmp.api.Session;
import org.esmp.api.SignedMessage;
import org.esmp.api.Storage;
import org.esmp.api.json.JsonObject;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.plugin.PluginHost;
import org.esmp.server.plugin.PluginRegistry;
import org.esmp.server.session.ConnectionSession;
import org.esmp.server.verify.Verdict;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides the answer to a verified message: the checks of ESMP/1 section 3 after the signature
 * (duplicates, {@code ts}, type, sender key), then the handler of its type. Called in arrival order
 * per connection on worker threads; the handler's stage completes whenever the handler is done.
 */
public final class Dispatcher {

  private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);

  /** Processed every time, never answered as duplicates (ESMP/1 section 2.2). */
  public static final Set<String> SESSION_TYPES = Set.of("auth", "sync", "lookup", "history", "group_info");

  private final ServerConfig config;
  private final PluginHost plugins;
  private final Map<String, CoreHandler> core;
  private final ListenerBus listeners;
  private final Clock clock;
  /** Messages being processed, so that a resend arriving meanwhile waits for the first answer. */
  private final Map<MessageId, CompletableFuture<Reply>> inFlight = new ConcurrentHashMap<>();

  /** @param core the types the server answers itself, with their handlers */
  public Dispatcher(ServerConfig config, PluginHost plugins, Map<String, CoreHandler> core, ListenerBus listeners,
      Clock clock) {
    this.config = config;
    this.plugins = plugins;
    this.core = Map.copyOf(core);
    this.listeners = listeners;
    this.clock = clock;
  }

  /** The answer to {@code verdict}, which arrived on {@code session} at {@code receivedAt}. */
  public CompletionStage<Reply> dispatch(Verdict verdict, ConnectionSession session, long receivedAt) {
    if (verdict instanceof Verdict.Refused refused) {
      return CompletableFuture.completedFuture(Reply.error(refused.code(), refused.reason()));
    }
    SignedMessage message = ((Verdict.Verified) verdict).message();
    PluginRegistry registry = plugins.registry();
    if (SESSION_TYPES.contains(message.type()) || registry.storage().isEmpty()) {
      return process(message, session, receivedAt, registry);
    }
    Storage storage = registry.storage().get().extension();
    CompletableFuture<Reply> mine = new CompletableFuture<>();
    CompletableFuture<Reply> first = inFlight.putIfAbsent(message.id(), mine);
    if (first != null) {
      return first.thenApply(Dispatcher::asDuplicate);
    }
    try {
      Optional<JsonObject> accepted = storage.acceptedAnswer(message.id());
      CompletionStage<Reply> reply = accepted.isPresent()
          ? CompletableFuture.completedFuture(asDuplicate(Reply.ack(accepted.get())))
          : process(message, session, receivedAt, registry);
      reply.whenComplete((r, failure) -> {
        inFlight.remove(message.id(), mine);
        if (failure != null) {
          mine.completeExceptionally(failure);
        } else {
          mine.complete(r);
        }
      });
    } catch (RuntimeException e) {
      inFlight.remove(message.id(), mine);
      mine.complete(failureReply(message, e, registry));
    }
    return mine;
  }

  /** An accepted message's answer as a resend gets it: {@code "duplicate":true}; errors unchanged. */
  private static Reply asDuplicate(Reply first) {
    return first.isAck() ? Reply.ack(first.fields().toBuilder().put("duplicate", true).build()) : first;
  }

  private CompletionStage<Reply> process(SignedMessage message, ConnectionSession session, long receivedAt,
      PluginRegistry registry) {
    CompletionStage<Reply> reply;
    Request request = null;
    try {
      Optional<Address> sender = checkSender(message, registry);
      request = new IncomingRequest(message, sender, session, receivedAt);
      reply = handle(request, session, registry);
    } catch (RuntimeException | LinkageError e) {
      reply = CompletableFuture.failedFuture(e);
    }
    Request answered = request;
    return reply.handle((r, failure) -> {
      Reply outcome = failure == null ? r : failureReply(message, failure, registry);
      if (outcome == null) {
        outcome = Reply.error(ErrorCode.INTERNAL, "the handler gave no answer");
        log.error("Handler of type '{}' answered null for message {}", message.type(), message.id());
      }
      if (answered != null) {
        listeners.publish(registry.listeners(), answered, outcome);
      }
      return outcome;
    });
  }

  /** Checks {@code ts}, the type and the sender's key, in the spec's order. */
  private Optional<Address> checkSender(SignedMessage message, PluginRegistry registry) {
    if (message.ts().isPresent()
        && Math.abs(clock.millis() - message.ts().getAsLong()) > config.tsSkew().toMillis()) {
      throw new RejectedException(ErrorCode.STALE, "ts is more than " + config.tsSkew().toSeconds()
          + " s away from the server clock");
    }
    String type = message.type();
    if (!core.containsKey(type) && !registry.types().containsKey(type)) {
      throw new RejectedException(ErrorCode.UNSUPPORTED_TYPE, "no installed plugin declares type '" + type + "'");
    }
    Storage storage = storage(registry);
    if (type.equals("auth")) {
      return Optional.empty(); // the key may not be bound yet: auth is how it gets bound
    }
    Address sender = storage.addressOf(message.senderKey()).orElseThrow(
        () -> new RejectedException(ErrorCode.UNKNOWN_SENDER, "sender_pubkey is bound to no address of this server"));
    if (message.fields().has("from")) {
      String from = message.fields().get("from").asString();
      if (!sender.toString().equals(from)) {
        throw new RejectedException(ErrorCode.FORBIDDEN, "from is not the address sender_pubkey is bound to");
      }
    }
    return Optional.of(sender);
  }

  private CompletionStage<Reply> handle(Request request, ConnectionSession session, PluginRegistry registry) {
    SignedMessage message = request.message();
    CoreHandler coreHandler = core.get(message.type());
    if (coreHandler != null) {
      return coreHandler.handle(request, session);
    }
    PluginRegistry.Declared declared = registry.types().get(message.type());
    if (declared instanceof PluginRegistry.Handled handled) {
      return handled.handler().handle(request);
    }
    PluginRegistry.Content content = (PluginRegistry.Content) declared;
    content.contentType().validate(message.body());
    boolean group = message.groupId().isPresent();
    if (!group) {
      LinkedHashSet<Address> recipients = new LinkedHashSet<>(message.to());
      recipients.addAll(message.cc());
      if (recipients.isEmpty()) {
        throw new RejectedException(ErrorCode.BAD_FIELD, "a direct message needs an address in to or cc");
      }
    }
    Optional<PluginRegistry.Owned<Delivery>> delivery = group ? registry.group() : registry.direct();
    if (delivery.isEmpty()) {
      throw new RejectedException(ErrorCode.UNSUPPORTED_TYPE,
          "no installed plugin delivers " + (group ? "group" : "direct") + " messages");
    }
    return delivery.get().extension().deliver(request, content.ephemeral());
  }

  private static Storage storage(PluginRegistry registry) {
    return registry.storage().map(PluginRegistry.Owned::extension).orElseThrow(
        () -> new IllegalStateException("no storage plugin installed"));
  }

  private static Reply failureReply(SignedMessage message, Throwable failure, PluginRegistry registry) {
    Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    if (cause instanceof RejectedException rejected) {
      return Reply.error(rejected.code(), rejected.getMessage());
    }
    PluginRegistry.Declared declared = registry.types().get(message.type());
    log.error("Message {} of type '{}'{} failed", message.id(), message.type(),
        declared == null ? "" : " (plugin " + declared.pluginId() + ")", cause);
    return Reply.error(ErrorCode.INTERNAL, "the server failed to process this message");
  }

  /** A verified message with where it arrived. */
  private record IncomingRequest(SignedMessage message, Optional<Address> sender, Session session, long receivedAt)
      implements Request {}
}
