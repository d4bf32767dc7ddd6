package org.esmp.server.dispatch;

import java.time.Clock;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.esmp.api.Address;
import org.esmp.api.Delivery;
import org.esmp.api.DuplicateException;
import org.esmp.api.ErrorCode;
import org.esmp.api.MessageId;
import org.esmp.api.RejectedException;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.esmp.api.Session;
import org.esmp.api.SignedMessage;
import org.esmp.api.spi.Storage;
import org.esmp.api.StorageFailedException;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonString;
import org.esmp.api.json.JsonValue;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.federation.InboundRelays;
import org.esmp.server.limits.TokenBuckets;
import org.esmp.server.metrics.ServerMetrics;
import org.esmp.server.plugin.PluginCallException;
import org.esmp.server.plugin.PluginCalls;
import org.esmp.server.plugin.PluginHost;
import org.esmp.server.plugin.PluginRegistry;
import org.esmp.server.session.AddressStates;
import org.esmp.server.session.ConnectionSession;
import org.esmp.server.store.Commits;
import org.esmp.server.store.IncomingRequest;
import org.esmp.server.verify.FrameVerifier;
import org.esmp.server.verify.Verdict;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides the answer to a verified message: the checks of ESMP/1 section 3 after the signature
 * (duplicates, {@code ts}, type, sender key, and whether the operator disabled the sender's
 * address), the sender address's message rate, then the handler
 * of its type. Called in arrival order
 * per connection on worker threads; the handler's stage completes whenever the handler is done.
 *
 * <p>Plugins are called through their {@link PluginCalls}: on the plugin's own threads, bounded by
 * the plugin call timeout. A plugin that throws, hangs or gives a bad answer fails only the message
 * at hand, answered {@code internal}; a body check that fails in any way stops its message before
 * delivery. The storage is the exception: the server's own services call it directly.
 */
public final class Dispatcher {

  private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);

  /** The type of a frame from another server carrying a message (ESMP/1 section 8). */
  public static final String RELAY = "relay";

  private final ServerConfig config;
  private final PluginHost plugins;
  private final Map<String, CoreHandler> core;
  private final ListenerBus listeners;
  private final Clock clock;
  /** Session types: processed every time, never answered as duplicates (ESMP/1 section 2.2). */
  private final Predicate<String> sessionTypes;
  private final Commits commits;
  private final AddressStates states;
  /** Failures answered {@code internal} are logged at most once per second each. */
  private final LogLimiter failures = new LogLimiter(log);
  /** Set when the server stops: failures of messages still in flight are expected then. */
  private volatile boolean stopping;
  /** Messages being processed, so that a resend arriving meanwhile waits for the first answer. */
  private final Map<MessageId, CompletableFuture<Reply>> inFlight = new ConcurrentHashMap<>();
  /**
   * Messages per address. Counted only once the signature verified and the key is bound, so forged
   * frames cannot spend someone else's rate; resends answered as duplicates are not counted.
   */
  private final TokenBuckets<Address> addressRates;
  private final ServerMetrics metrics;
  /** Where a message for a group whose home is another server goes; null: no federation. */
  private final Routing routing;

  /**
   * How a message of a local sender reaches another server (ESMP/1 section 8): a message for a group
   * whose home is there goes to that home, whose answer is the answer.
   */
  public interface Routing {
    /** The domain of the server that is {@code groupId}'s home, when that is another server. */
    Optional<String> homeOf(String groupId);

    /** Sends {@code request} to the server of {@code domain}; completes with its answer. */
    CompletionStage<Reply> forward(Request request, String domain);
  }

  /**
   * @param core the types the server answers itself, with their handlers
   * @param sessionTypes whether a type is a session type, the server's or a plugin's
   * @param commits records acknowledged messages that their handler did not record
   * @param states the addresses the operator disabled or removed: their messages are {@code forbidden}
   * @param metrics counts the refusals of the address message rate
   */
  public Dispatcher(ServerConfig config, PluginHost plugins, Map<String, CoreHandler> core, Predicate<String> sessionTypes,
      Commits commits, AddressStates states, ListenerBus listeners, Clock clock, ServerMetrics metrics) {
    this(config, plugins, core, sessionTypes, commits, states, listeners, clock, metrics, null);
  }

  /**
   * @param routing where messages for groups whose home is another server go; null: nowhere (no
   *     federation)
   */
  public Dispatcher(ServerConfig config, PluginHost plugins, Map<String, CoreHandler> core, Predicate<String> sessionTypes,
      Commits commits, AddressStates states, ListenerBus listeners, Clock clock, ServerMetrics metrics, Routing routing) {
    this.routing = routing;
    this.config = config;
    this.states = states;
    this.metrics = metrics;
    this.sessionTypes = sessionTypes;
    this.commits = commits;
    this.plugins = plugins;
    this.core = Map.copyOf(core);
    this.listeners = listeners;
    this.clock = clock;
    this.addressRates = TokenBuckets.ofServer(
        TokenBuckets.Rate.perSecond(config.addressMessagesPerSecond(), config.addressMessagesBurst()));
  }

  /**
   * Dispatches {@code verdict}, which arrived on {@code session} at {@code receivedAt}. A failure of
   * anything called here, plugin or not, becomes an {@code internal} answer to this message only.
   */
  public Dispatched dispatch(Verdict verdict, ConnectionSession session, long receivedAt) {
    if (verdict instanceof Verdict.Refused refused) {
      return Dispatched.now(CompletableFuture.completedFuture(Reply.error(refused.code(), refused.reason())));
    }
    SignedMessage message = ((Verdict.Verified) verdict).message();
    PluginRegistry registry = plugins.registry();
    return deduplicated(message, registry, () -> process(message, session, receivedAt, registry));
  }

  /**
   * Dispatches {@code message}, relayed by the server {@code peer} on behalf of {@code from}, its
   * sender there (ESMP/1 section 8): as a message of {@code from}'s, the key bound on the peer's word,
   * its {@code ts} checked by the peer when it accepted it; deduplicated by its id as any message.
   * Only what a remote sender may ask of this server comes so: a group's messages and system events
   * (this server being the group's home), {@code history}, {@code group_info} and {@code lookup}.
   *
   * @param relayed the sender's connection as plugins see it
   * @param connection the peer's connection it came on
   */
  public CompletionStage<Reply> dispatchRelayed(SignedMessage message, Address from, String peer, Session relayed,
      ConnectionSession connection, long receivedAt) {
    PluginRegistry registry = plugins.registry();
    return deduplicated(message, registry, () -> {
      IncomingRequest request = null;
      Dispatched dispatched;
      try {
        checkRelayed(message, registry);
        request = new IncomingRequest(message, Optional.of(from), relayed, receivedAt, deduplicated(message, registry),
            Optional.of(peer));
        dispatched = handle(request, connection, registry);
      } catch (RuntimeException | LinkageError e) {
        dispatched = Dispatched.now(CompletableFuture.failedFuture(e));
      }
      return answered(message, request, dispatched, registry);
    }).reply();
  }

  /** The types a remote sender's server may forward here, checked as the type check of a local message. */
  private void checkRelayed(SignedMessage message, PluginRegistry registry) {
    String type = message.type();
    if (!core.containsKey(type) && !registry.types().containsKey(type)) {
      throw new RejectedException(ErrorCode.UNSUPPORTED_TYPE, "no installed plugin declares type '" + type + "'");
    }
    boolean forGroup = message.groupId().isPresent() && !core.containsKey(type);
    if (!forGroup && !type.equals("lookup")) {
      throw new RejectedException(ErrorCode.FORBIDDEN, "a server forwards only group traffic and lookup here; "
          + type + (message.groupId().isPresent() ? "" : " without group_id") + " is not for this server to answer");
    }
  }

  /**
   * {@code process}'s dispatch, deduplicated: one copy of a message at a time on this server, and a
   * resend of an accepted message answered from its record.
   */
  private Dispatched deduplicated(SignedMessage message, PluginRegistry registry, java.util.function.Supplier<Dispatched> process) {
    if (sessionTypes.test(message.type()) || registry.storage().isEmpty()) {
      return process.get();
    }
    // The fast path of dedupe: one copy at a time on this server, and a resend of an accepted
    // message answered from its record. The storage's insert-if-absent of the record decides
    // between copies on other paths (see DuplicateException).
    Storage storage = registry.storage().get().extension();
    CompletableFuture<Reply> mine = new CompletableFuture<>();
    CompletableFuture<Reply> first = inFlight.putIfAbsent(message.id(), mine);
    if (first != null) {
      return Dispatched.now(first.thenApply(Dispatcher::asDuplicate));
    }
    try {
      Optional<JsonObject> accepted = storage.acceptedAnswer(message.id());
      Dispatched dispatched = accepted.isPresent()
          ? Dispatched.now(CompletableFuture.completedFuture(asDuplicate(Reply.ack(accepted.get()))))
          : process.get();
      dispatched.reply().whenComplete((r, failure) -> {
        inFlight.remove(message.id(), mine);
        if (failure != null) {
          mine.completeExceptionally(failure);
        } else {
          mine.complete(r);
        }
      });
      return new Dispatched(dispatched.handed(), mine);
    } catch (RuntimeException e) {
      inFlight.remove(message.id(), mine);
      mine.complete(failureReply(message, e, registry));
      return Dispatched.now(mine);
    }
  }

  /**
   * The server is stopping: messages still in flight may fail as the storage and plugins close.
   * They are answered {@code internal} as before, logged at WARN (at most once a second) instead of
   * ERROR.
   */
  public void stopping() {
    stopping = true;
  }

  /** An accepted message's answer as a resend gets it: {@code "duplicate":true}; errors unchanged. */
  private static Reply asDuplicate(Reply first) {
    return first.isAck() ? Reply.ack(first.fields().toBuilder().put("duplicate", true).build()) : first;
  }

  private Dispatched process(SignedMessage message, ConnectionSession session, long receivedAt,
      PluginRegistry registry) {
    Dispatched dispatched;
    IncomingRequest request = null;
    try {
      Optional<Address> sender = checkSender(message, session, registry);
      request = new IncomingRequest(message, sender, session, receivedAt, deduplicated(message, registry));
      long wait = sender.isPresent() ? addressRates.take(sender.get(), 1) : 0;
      if (wait > 0) {
        metrics.rateLimited(ServerMetrics.RateLimit.ADDRESS_MESSAGES);
      }
      dispatched = wait > 0
          ? Dispatched.now(CompletableFuture.completedFuture(Reply.rateLimited(wait,
              "too many messages from " + sender.get() + "; retry after " + wait + " ms")))
          : handle(request, session, registry);
    } catch (RuntimeException | LinkageError e) {
      dispatched = Dispatched.now(CompletableFuture.failedFuture(e));
    }
    return answered(message, request, dispatched, registry);
  }

  /** {@code dispatched}, its answer recorded when it is to be, checked, and published to the listeners. */
  private Dispatched answered(SignedMessage message, IncomingRequest request, Dispatched dispatched,
      PluginRegistry registry) {
    IncomingRequest answered = request;
    CompletionStage<Reply> reply = dispatched.reply().thenCompose(r -> recorded(answered, r)).handle((r, failure) -> {
      Reply outcome = failure == null ? checked(message, r, registry) : failureReply(message, failure, registry);
      if (answered != null) {
        listeners.publish(registry.listeners(), answered, outcome);
      }
      return outcome;
    });
    return new Dispatched(dispatched.handed(), reply);
  }

  /**
   * Whether an acknowledged {@code message} is recorded as accepted: every type but the session
   * types and the ephemeral content types, of which nothing is stored.
   */
  private boolean deduplicated(SignedMessage message, PluginRegistry registry) {
    return !sessionTypes.test(message.type())
        && !(registry.types().get(message.type()) instanceof PluginRegistry.Content content && content.ephemeral());
  }

  /**
   * {@code reply}, once {@code request} is recorded as accepted when it is to be and its handler did
   * not record it (the handler committed nothing, or not through the request).
   */
  private CompletionStage<Reply> recorded(IncomingRequest request, Reply reply) {
    if (request == null || !request.recordsAs(reply)) {
      return CompletableFuture.completedFuture(reply);
    }
    return commits.record(request, reply).thenApply(v -> reply);
  }

  /**
   * Checks {@code ts}, the type and the sender's key, in the spec's order. Only a session type can
   * come without {@code ts}: the {@link FrameVerifier} refused any other without one.
   */
  private Optional<Address> checkSender(SignedMessage message, ConnectionSession session, PluginRegistry registry) {
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
    if (type.equals(RELAY)) {
      InboundRelays.checkSender(message, session); // another server's: signed with its key
      return Optional.empty();
    }
    Address sender = storage.addressOf(message.senderKey()).orElseThrow(
        () -> new RejectedException(ErrorCode.UNKNOWN_SENDER, "sender_pubkey is bound to no address of this server"));
    states.check(sender); // disabled by the operator: forbidden, whatever the type
    if (message.fields().has("from")) {
      String from = message.fields().get("from").asString();
      if (!sender.toString().equals(from)) {
        throw new RejectedException(ErrorCode.FORBIDDEN, "from is not the address sender_pubkey is bound to");
      }
    }
    return Optional.of(sender);
  }

  private Dispatched handle(Request request, ConnectionSession session, PluginRegistry registry) {
    SignedMessage message = request.message();
    Optional<String> home = remoteHome(request);
    if (home.isPresent()) {
      return Dispatched.now(routing.forward(request, home.get()));
    }
    CoreHandler coreHandler = core.get(message.type());
    if (coreHandler != null) {
      return Dispatched.now(coreHandler.handle(request, session));
    }
    PluginRegistry.Declared declared = registry.types().get(message.type());
    if (declared instanceof PluginRegistry.Handled handled) {
      PluginCalls.Call<Reply> call = handled.calls().callAsync("handle", () -> handled.handler().handle(request));
      return new Dispatched(call.returned(), call.result());
    }
    PluginRegistry.Content content = (PluginRegistry.Content) declared;
    // Fail closed: only a body the type's check accepted, in time, goes on to delivery.
    CompletableFuture<Dispatched> delivered = content.calls()
        .run("validate", () -> content.contentType().validate(message.body())).result()
        .thenApply(valid -> deliver(request, content, registry));
    CompletionStage<Void> handed = delivered.handle((d, failure) -> d == null ? CompletableFuture.<Void>completedFuture(null) : d.handed())
        .thenCompose(stage -> stage);
    return new Dispatched(handed, delivered.thenCompose(Dispatched::reply));
  }

  /**
   * The domain of the other server that is the home of the group {@code request} is for, when it is
   * a local sender's message for such a group: it goes there (ESMP/1 section 8). A session type
   * ({@code history}, {@code group_info}) needs {@code auth} as the sender here first: the home
   * takes this server's word for it.
   */
  private Optional<String> remoteHome(Request request) {
    SignedMessage message = request.message();
    if (routing == null || request.peer().isPresent() || message.groupId().isEmpty() || core.containsKey(message.type())
        || message.type().equals("group_created")) {
      return Optional.empty();
    }
    Optional<String> home = routing.homeOf(message.groupId().get());
    if (home.isPresent() && sessionTypes.test(message.type())) {
      Address connection = request.session().address().orElseThrow(() -> new RejectedException(
          ErrorCode.AUTH_REQUIRED, message.type() + " needs auth on this connection"));
      if (!Optional.of(connection).equals(request.sender())) {
        throw new RejectedException(ErrorCode.FORBIDDEN,
            message.type() + " must be signed by a key of the connection's address");
      }
    }
    return home;
  }

  /** Hands a content message whose body was accepted to the delivery of its scope. */
  private static Dispatched deliver(Request request, PluginRegistry.Content content, PluginRegistry registry) {
    SignedMessage message = request.message();
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
    Delivery to = delivery.get().extension();
    PluginCalls.Call<Reply> call = delivery.get().calls()
        .callAsync("deliver", () -> to.deliver(request, content.ephemeral()));
    return new Dispatched(call.returned(), call.result());
  }

  /**
   * {@code reply} if it is an answer the server can send; else the message is answered
   * {@code internal}: a plugin's bad answer is its failure.
   */
  private Reply checked(SignedMessage message, Reply reply, PluginRegistry registry) {
    String problem = null;
    if (reply == null) {
      problem = "no answer";
    } else if (!FrameVerifier.isTypeName(reply.type())) {
      problem = "an answer of type '" + reply.type() + "'";
    } else if (reply.type().equals("error") && !isErrorCode(reply.fields().get("code"))) {
      problem = "an error without a code of the protocol";
    }
    if (problem == null) {
      return reply;
    }
    PluginRegistry.Declared declared = registry.types().get(message.type());
    String handler = declared == null ? "" : " (plugin " + declared.pluginId() + ")";
    failures.log(true, message.type() + handler + problem, "Message " + message.id() + " of type '" + message.type()
        + "'" + handler + ": the handler gave " + problem + "; answered 'internal'", null);
    return Reply.error(ErrorCode.INTERNAL, "the server failed to process this message");
  }

  private static boolean isErrorCode(JsonValue code) {
    if (!(code instanceof JsonString string)) {
      return false;
    }
    for (ErrorCode known : ErrorCode.values()) {
      if (known.wire().equals(string.value())) {
        return true;
      }
    }
    return false;
  }

  private static Storage storage(PluginRegistry registry) {
    return registry.storage().map(PluginRegistry.Owned::extension).orElseThrow(
        () -> new IllegalStateException("no storage plugin installed"));
  }

  private Reply failureReply(SignedMessage message, Throwable failure, PluginRegistry registry) {
    Throwable cause = failure;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof RejectedException rejected) {
      return Reply.error(rejected.code(), rejected.getMessage() == null ? "refused" : rejected.getMessage());
    }
    DuplicateException duplicate = causeOf(cause, DuplicateException.class);
    if (duplicate != null) {
      // Accepted meanwhile on another path: answered as a resend is (ESMP/1 section 2.2).
      return asDuplicate(Reply.ack(duplicate.answer()));
    }
    StorageFailedException storageFailed = storageFailure(cause);
    if (stopping) {
      failures.log(false, "stopping", "Messages answered 'internal' while the server stops (" + cause + ")", null);
    } else if (storageFailed != null) {
      // Logged once at ERROR by the server, which then exits: here only a reminder per second.
      failures.log(false, "storage failed", "Messages answered 'internal': the storage failed ("
          + storageFailed.getMessage() + ")", null);
    } else if (cause instanceof PluginCallException call) {
      // The plugin's own failure: one line, and its stack trace when it threw.
      failures.log(true, message.type() + call.getMessage(), "Message " + message.id() + " of type '"
          + message.type() + "': " + call.getMessage() + "; answered 'internal'", call.getCause());
    } else {
      PluginRegistry.Declared declared = registry.types().get(message.type());
      String handler = declared == null ? "" : " (plugin " + declared.pluginId() + ")";
      failures.log(true, message.type() + handler + cause, "Message " + message.id() + " of type '"
          + message.type() + "'" + handler + " failed: " + cause, cause);
    }
    return Reply.error(ErrorCode.INTERNAL, "the server failed to process this message");
  }

  private static StorageFailedException storageFailure(Throwable failure) {
    return causeOf(failure, StorageFailedException.class);
  }

  /** {@code failure} or its first cause of {@code type}, or null. */
  private static <T extends Throwable> T causeOf(Throwable failure, Class<T> type) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
    }
    return null;
  }
}
