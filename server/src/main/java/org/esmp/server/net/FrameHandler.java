package org.esmp.server.net;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.timeout.IdleStateEvent;
import java.io.IOException;
import java.net.InetAddress;
import java.security.SecureRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import org.esmp.api.ErrorCode;
import org.esmp.api.MessageId;
import org.esmp.api.Reply;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonNull;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonString;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.dispatch.Dispatched;
import org.esmp.server.dispatch.Dispatcher;
import org.esmp.server.dispatch.Workers;
import org.esmp.server.json.JsonWriter;
import org.esmp.server.limits.TokenBuckets;
import org.esmp.server.session.ConnectionSession;
import org.esmp.server.verify.Verdict;
import org.esmp.server.verify.FrameVerifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection's protocol logic. Each frame is verified on the worker pool (frames of one
 * connection in parallel), dispatched in arrival order, and answered in arrival order, whatever
 * order the answers complete in. The event loop only copies bytes in and out.
 *
 * <p>Memory stays bounded: once {@value #MAX_IN_FLIGHT} frames of a connection await their answer,
 * the server stops reading from it until half of them are answered.
 *
 * <p>Before anything else a frame is counted against its IP's frame and byte rates: one over them
 * is answered {@code rate_limited} (with {@code "re":null}) without being parsed or verified, so a
 * flood of forged frames costs the server a bucket check each, not a signature verification.
 */
final class FrameHandler extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(FrameHandler.class);

  /** Frames of one connection read but not yet answered, at most. */
  static final int MAX_IN_FLIGHT = 256;

  private static final byte[] NEWLINE = {'\n'};
  private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

  private final ServerConfig config;
  private final FrameVerifier verifier;
  private final Dispatcher dispatcher;
  private final Workers workers;
  private final SecureRandom random;
  /** Frames and bytes per IP, shared by every connection of the server. */
  private final TokenBuckets<InetAddress> ipRates;

  private Channel channel;
  private ConnectionSession session;
  /** Completes when the previous frame's handler has taken it: keeps dispatch in order. */
  private CompletableFuture<?> dispatchTail = DONE;
  /** Completes when the previous answer has been queued for writing: keeps answers in order. */
  private CompletableFuture<?> writeTail = DONE;
  private int inFlight; // touched on the event loop only
  private boolean closing;

  FrameHandler(ServerConfig config, FrameVerifier verifier, Dispatcher dispatcher, Workers workers, SecureRandom random,
      TokenBuckets<InetAddress> ipRates) {
    this.config = config;
    this.ipRates = ipRates;
    this.verifier = verifier;
    this.dispatcher = dispatcher;
    this.workers = workers;
    this.random = random;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    channel = ctx.channel();
    session = new ConnectionSession(channel, random);
    JsonObject hello = JsonObject.builder()
        .put("type", "hello")
        .put("protocol", "esmp/1")
        .put("domain", config.domain())
        .put("domains", JsonArray.ofStrings(config.domains()))
        .put("challenge", session.challenge())
        .put("max_frame", config.maxFrame())
        .build();
    session.push(hello);
    ctx.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf buf = (ByteBuf) msg;
    byte[] frame;
    int length;
    try {
      length = buf.readableBytes();
      frame = length == 0 || length > config.maxFrame() ? null : ByteBufUtil.getBytes(buf);
    } finally {
      buf.release();
    }
    if (closing) {
      return;
    }
    if (length > config.maxFrame()) {
      // The decoder allows one byte more than max_frame, so that a frame of exactly max_frame bytes
      // whose "\r\n" arrives split is not refused; a longer line is refused here.
      refuseTooLarge();
      return;
    }
    if (frame == null) {
      return; // empty lines are ignored
    }
    long wait = ipRates.take(session.remoteIp(), 1, frame.length);
    if (wait > 0) {
      answer(CompletableFuture.completedFuture(null), CompletableFuture.completedFuture(Reply.rateLimited(wait,
          "too many frames or bytes from this IP address; not verified; retry after " + wait + " ms")), false);
    } else {
      verifyAndDispatch(frame);
    }
    if (++inFlight >= MAX_IN_FLIGHT && channel.config().isAutoRead()) {
      channel.config().setAutoRead(false);
    }
  }

  private void verifyAndDispatch(byte[] frame) {
    long receivedAt = System.currentTimeMillis();
    CompletableFuture<Verdict> verdict = CompletableFuture.supplyAsync(() -> verifier.check(frame), workers);
    // On a server worker only: on the one that verified the frame or took the previous one if that
    // finished last there, else handed to one. Never on a plugin's thread (which completes the
    // previous frame's hand-over), a timer's or an event loop.
    CompletableFuture<Dispatched> dispatched = dispatchTail.thenCombineAsync(verdict,
        (previous, v) -> dispatcher.dispatch(v, session, receivedAt), workers.here());
    // The next frame is dispatched once this one's handler has taken it, not once it is answered.
    dispatchTail = dispatched.thenCompose(Dispatched::handed).exceptionally(e -> null);
    CompletableFuture<Reply> reply = dispatched.thenCompose(Dispatched::reply);
    answer(verdict, reply, false);
  }

  /** Queues the answer after every earlier one; {@code closeAfter} closes the connection once it is written. */
  private void answer(CompletableFuture<Verdict> verdict, CompletableFuture<Reply> reply, boolean closeAfter) {
    CompletableFuture<ByteBuf> encoded = verdict.thenCombine(reply, FrameHandler::encode)
        .exceptionally(e -> {
          if (rootCause(e) instanceof RejectedExecutionException) {
            // The workers are stopping with the server: this connection is being closed.
            log.debug("Connection {}: not answered, the server is stopping", session);
          } else {
            log.error("Connection {}: answering a frame failed", session, e);
          }
          // The id is known whenever verification itself finished: the answer still carries it.
          return encode(known(verdict), Reply.error(ErrorCode.INTERNAL, "the server failed to process this message"));
        });
    // Neither input ever fails, so neither does the chain: one answer's trouble never holds up the
    // answers after it.
    writeTail = writeTail.thenCombine(encoded, (previous, bytes) -> {
      queueWrite(bytes, closeAfter || session.closesAfter(answered(verdict)));
      return null;
    });
  }

  /** The verdict, if verification has finished and did not fail; else null. */
  private static Verdict known(CompletableFuture<Verdict> verdict) {
    return verdict.isDone() && !verdict.isCompletedExceptionally() ? verdict.join() : null;
  }

  /** The id of the message an answer is to, when verification found one. */
  private static MessageId answered(CompletableFuture<Verdict> verdict) {
    Verdict known = known(verdict);
    return known == null ? null : known.re();
  }

  private static Throwable rootCause(Throwable failure) {
    Throwable cause = failure;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause;
  }

  /** Queues a write on the event loop; execute() always queues, so writes keep the chain's order. */
  private void queueWrite(ByteBuf bytes, boolean closeAfter) {
    try {
      channel.eventLoop().execute(() -> write(bytes, closeAfter));
    } catch (RejectedExecutionException e) {
      bytes.release(); // the server is stopping: the connection is being closed anyway
    }
  }

  private void write(ByteBuf bytes, boolean closeAfter) {
    if (session.closeIfOverOutputCap()) {
      // Answers count against the output cap like pushes: asking for large answers without
      // reading them would otherwise queue without bound.
      bytes.release();
      closing = true;
      return;
    }
    if (closeAfter) {
      channel.writeAndFlush(bytes).addListener(f -> channel.close());
      return;
    }
    channel.writeAndFlush(bytes, channel.voidPromise());
    if (--inFlight <= MAX_IN_FLIGHT / 2 && !channel.config().isAutoRead() && !closing) {
      channel.config().setAutoRead(true);
    }
  }

  private static ByteBuf encode(Verdict verdict, Reply reply) {
    MessageId re = verdict == null ? null : verdict.re();
    JsonObject.Builder frame = JsonObject.builder()
        .put("type", reply.type())
        .put("re", re == null ? JsonNull.INSTANCE : new JsonString(re.hex()));
    if (reply.isAck() && !reply.fields().has("duplicate")) {
      frame.put("duplicate", false);
    }
    for (var member : reply.fields().members().entrySet()) {
      if (!member.getKey().equals("type") && !member.getKey().equals("re")) {
        frame.put(member.getKey(), member.getValue());
      }
    }
    return Unpooled.wrappedBuffer(JsonWriter.write(frame.build()), NEWLINE);
  }

  private void refuseTooLarge() {
    closing = true;
    channel.config().setAutoRead(false);
    Reply error = Reply.error(ErrorCode.FRAME_TOO_LARGE,
        "frame longer than " + config.maxFrame() + " bytes; closing the connection");
    answer(CompletableFuture.completedFuture(null), CompletableFuture.completedFuture(error), true);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
    if (event instanceof IdleStateEvent) {
      session.push(PING);
    } else if (event instanceof ChannelInputShutdownEvent) {
      // The client sent its last frame and half-closed: answer everything, then close.
      closing = true;
      writeTail = writeTail.thenRun(() -> channel.eventLoop().execute(() -> channel.close()));
    } else {
      ctx.fireUserEventTriggered(event);
    }
  }

  private static final JsonObject PING = JsonObject.builder().put("type", "ping").build();

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof TooLongFrameException) {
      if (!closing) {
        refuseTooLarge();
      }
    } else if (cause instanceof IOException) {
      log.debug("Connection {}: {}", session, cause.toString());
      ctx.close();
    } else {
      log.warn("Connection {}: closing after an unexpected error", session, cause);
      ctx.close();
    }
  }
}
