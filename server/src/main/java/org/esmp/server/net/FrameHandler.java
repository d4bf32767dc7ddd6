package org.esmp.server.net;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.timeout.IdleStateEvent;
import java.io.IOException;
import java.net.InetAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.esmp.api.ErrorCode;
import org.esmp.api.MessageId;
import org.esmp.api.Reply;
import org.esmp.api.json.JsonNull;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonString;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.dispatch.Dispatched;
import org.esmp.server.dispatch.Dispatcher;
import org.esmp.server.dispatch.Workers;
import org.esmp.json.JsonWriter;
import org.esmp.server.limits.MemoryBudget;
import org.esmp.server.limits.TokenBuckets;
import org.esmp.server.metrics.ServerMetrics;
import org.esmp.server.session.ConnectionSession;
import org.esmp.server.tls.ChannelBinding;
import org.esmp.server.verify.Verdict;
import org.esmp.server.verify.FrameVerifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection's protocol logic. Each frame is verified on the worker pool (frames of one
 * connection in parallel), dispatched in arrival order, and answered in arrival order, whatever
 * order the answers complete in. The event loop only copies bytes in and out.
 *
 * <p>Memory stays bounded. Bytes are split into lines by {@link Lines}, which holds a started line
 * in an array of its size. Once {@value #MAX_IN_FLIGHT} frames of a connection await their answer,
 * the server stops reading from it until half of them are answered. And what a connection holds,
 * its started line and its frames not yet answered, counts against the server's {@link
 * MemoryBudget input budget}: over its share, the connection is not read until it is under again.
 *
 * <p>Before anything else a frame is counted against its IP's frame and byte rates: one over them
 * is answered {@code rate_limited} (with {@code "re":null}) without being parsed or verified, so a
 * flood of forged frames costs the server a bucket check each, not a signature verification.
 */
final class FrameHandler extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(FrameHandler.class);

  /** Frames of one connection read but not yet answered, at most. */
  static final int MAX_IN_FLIGHT = 256;

  /**
   * What a connection authenticated as another server may send beyond {@code max_frame} in one
   * line: a relay's own fields around the message it carries.
   */
  static final int RELAY_OVERHEAD = 4096;

  /** How soon a connection held back by the input budget, with nothing in flight, is looked at again. */
  private static final long RECHECK_MILLIS = 100;

  private static final byte[] NEWLINE = {'\n'};
  private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

  private final ServerConfig config;
  private final Hello hello;
  private final FrameVerifier verifier;
  private final Dispatcher dispatcher;
  private final Workers workers;
  /** Frames and bytes per IP, shared by every connection of the server. */
  private final TokenBuckets<InetAddress> ipRates;
  private final MemoryBudget input;
  private final Lines lines;
  private final ServerMetrics metrics;

  private Channel channel;
  private final ConnectionSession session;
  private ConnectionDeadlines deadlines;
  /** Completes when the previous frame's handler has taken it: keeps dispatch in order. */
  private CompletableFuture<?> dispatchTail = DONE;
  /** Completes when the previous answer has been queued for writing: keeps answers in order. */
  private CompletableFuture<?> writeTail = DONE;
  // Touched on the event loop only:
  private int inFlight;
  private long inFlightBytes;
  /** What this connection counts against the input budget now. */
  private long holding;
  /** Not read because {@value #MAX_IN_FLIGHT} frames were in flight; until half are answered. */
  private boolean framesPaused;
  private boolean budgetPaused;
  private boolean recheckPending;
  private boolean closing;
  /** Whether hello waits for {@link TlsDetector} (a server with TLS). */
  private final boolean awaitsTransport;
  private boolean started;
  /** Whether lines are accepted up to a relay's length: once the connection is another server's. */
  private boolean peerLines;
  private boolean closed;
  /** Frames, and lines of any kind, completed by the read being handled. */
  private int framesRead;
  private int linesRead;

  FrameHandler(ServerConfig config, FrameVerifier verifier, Dispatcher dispatcher, Workers workers,
      TokenBuckets<InetAddress> ipRates, MemoryBudget input, ConnectionSession session, Hello hello,
      ServerMetrics metrics) {
    this.config = config;
    this.hello = hello;
    this.awaitsTransport = config.tls().enabled();
    this.metrics = metrics;
    this.ipRates = ipRates;
    this.input = input;
    this.session = session;
    this.lines = new Lines(config.maxFrame());
    this.verifier = verifier;
    this.dispatcher = dispatcher;
    this.workers = workers;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    channel = ctx.channel();
    if (!awaitsTransport) {
      start();
    }
    ctx.fireChannelActive();
  }

  /**
   * Sends {@code hello} and starts the deadlines: at once on a plaintext-only server, else once
   * {@link TlsDetector} has told plaintext, or the TLS handshake completed (then the connection's
   * {@link ChannelBinding} is kept for {@code auth}).
   */
  private void start() {
    if (started) {
      return;
    }
    started = true;
    SslHandler tls = channel.pipeline().get(SslHandler.class);
    metrics.transport(tls != null ? ServerMetrics.Transport.TLS : ServerMetrics.Transport.PLAINTEXT);
    if (tls != null) {
      try {
        session.bindTls(ChannelBinding.of(tls.engine()));
      } catch (SSLException e) {
        log.warn("Connection {}: closing: {}", session, e.getMessage());
        channel.close();
        return;
      }
    }
    session.push(hello.frame(session.challenge()));
    deadlines = new ConnectionDeadlines(config, channel, () -> framesPaused, session::synced);
    deadlines.start();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf bytes = (ByteBuf) msg;
    try {
      if (closing) {
        return;
      }
      start(); // no-op but for bytes that came before word of the transport
      if (deadlines == null) {
        return; // closed by start
      }
      framesRead = 0;
      linesRead = 0;
      if (!peerLines && session.peer().isPresent()) {
        // A relay wraps a message of up to max_frame bytes (ESMP/1 section 8).
        lines.allow(config.maxFrame() + RELAY_OVERHEAD);
        peerLines = true;
      }
      if (!lines.feed(bytes, this::frame)) {
        lines.clear();
        refuseTooLarge();
        return;
      }
      deadlines.read(framesRead > 0, linesRead > 0, lines.started());
    } finally {
      bytes.release();
      updateReading();
    }
  }

  /** One complete line, its ending stripped. */
  private void frame(byte[] frame) {
    linesRead++;
    if (closing || frame.length == 0) {
      return; // empty lines are ignored
    }
    framesRead++;
    inFlight++;
    inFlightBytes += frame.length;
    // Another server's connection is limited per server, after verification (InboundRelays).
    long wait = session.peer().isPresent() ? 0 : ipRates.take(session.remoteIp(), 1, frame.length);
    if (wait > 0) {
      metrics.rateLimited(ServerMetrics.RateLimit.IP_FRAMES);
      answer(CompletableFuture.completedFuture(null), CompletableFuture.completedFuture(Reply.rateLimited(wait,
          "too many frames or bytes from this IP address; not verified; retry after " + wait + " ms")), false,
          frame.length);
    } else {
      verifyAndDispatch(frame);
    }
  }

  /**
   * Counts what the connection holds against the input budget and decides whether to read it: not
   * while {@value #MAX_IN_FLIGHT} frames are in flight (until half are answered), nor while it is
   * over its share of the budget. On the event loop.
   */
  private void updateReading() {
    long now = closed ? 0 : inFlightBytes + lines.held();
    input.change(holding, now);
    holding = now;
    if (closing || closed) {
      return;
    }
    if (inFlight >= MAX_IN_FLIGHT) {
      framesPaused = true;
    } else if (inFlight <= MAX_IN_FLIGHT / 2) {
      framesPaused = false;
    }
    budgetPaused = input.over(holding);
    boolean read = !framesPaused && !budgetPaused;
    if (channel.config().isAutoRead() != read) {
      channel.config().setAutoRead(read);
    }
    if (budgetPaused && inFlight == 0 && !recheckPending) {
      // Held back for a started line alone: no answer will come to look again.
      recheckPending = true;
      channel.eventLoop().schedule(() -> {
        recheckPending = false;
        updateReading();
      }, RECHECK_MILLIS, TimeUnit.MILLISECONDS);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    closed = true;
    if (deadlines != null) {
      deadlines.stop();
    }
    lines.clear();
    updateReading(); // gives back what it held of the input budget
    ctx.fireChannelInactive();
  }

  private void verifyAndDispatch(byte[] frame) {
    long receivedAt = System.currentTimeMillis();
    CompletableFuture<Verdict> verdict = CompletableFuture.supplyAsync(() -> verify(frame), workers);
    // On a server worker only: on the one that verified the frame or took the previous one if that
    // finished last there, else handed to one. Never on a plugin's thread (which completes the
    // previous frame's hand-over), a timer's or an event loop.
    CompletableFuture<Dispatched> dispatched = dispatchTail.thenCombineAsync(verdict,
        (previous, v) -> dispatcher.dispatch(v, session, receivedAt), workers.here());
    // The next frame is dispatched once this one's handler has taken it, not once it is answered.
    dispatchTail = dispatched.thenCompose(Dispatched::handed).exceptionally(e -> null);
    CompletableFuture<Reply> reply = dispatched.thenCompose(Dispatched::reply);
    answer(verdict, reply, false, frame.length);
  }

  /** Verifies {@code frame}, timed; on a worker. */
  private Verdict verify(byte[] frame) {
    long start = System.nanoTime();
    Verdict verdict = verifier.check(frame);
    metrics.verified(System.nanoTime() - start);
    return verdict;
  }

  /**
   * Queues the answer after every earlier one; {@code closeAfter} closes the connection once it is
   * written. {@code size} is the length of the frame answered, 0 for an answer to no frame.
   */
  private void answer(CompletableFuture<Verdict> verdict, CompletableFuture<Reply> reply, boolean closeAfter,
      int size) {
    CompletableFuture<ByteBuf> encoded = verdict.thenCombine(reply, this::counted)
        .exceptionally(e -> {
          if (rootCause(e) instanceof RejectedExecutionException) {
            // The workers are stopping with the server: this connection is being closed.
            log.debug("Connection {}: not answered, the server is stopping", session);
          } else {
            log.error("Connection {}: answering a frame failed", session, e);
          }
          // The id is known whenever verification itself finished: the answer still carries it.
          return counted(known(verdict), Reply.error(ErrorCode.INTERNAL, "the server failed to process this message"));
        });
    // Neither input ever fails, so neither does the chain: one answer's trouble never holds up the
    // answers after it.
    writeTail = writeTail.thenCombine(encoded, (previous, bytes) -> {
      queueWrite(bytes, closeAfter || session.closesAfter(answered(verdict)), size);
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

  /**
   * Queues a write on the event loop, in the connection's one queue of writes: answers keep the
   * chain's order, and pushes queued before or after an answer stay before or after it. If the
   * server is stopping the write never runs: the connection is being closed anyway.
   */
  private void queueWrite(ByteBuf bytes, boolean closeAfter, int size) {
    session.writeInOrder(() -> write(bytes, closeAfter, size));
  }

  private void write(ByteBuf bytes, boolean closeAfter, int size) {
    if (size > 0) {
      inFlight--;
      inFlightBytes -= size;
    }
    if (session.closeIfOverOutputShare()) {
      // Answers count against the output budget like pushes: asking for large answers without
      // reading them would otherwise queue without bound.
      bytes.release();
      closing = true;
    } else if (closeAfter) {
      channel.write(bytes).addListener(f -> channel.close()); // once flushed with its batch
    } else {
      channel.write(bytes, channel.voidPromise());
    }
    updateReading();
  }

  /** {@link #encode}, counted in the metrics by the message's type and the answer's outcome. */
  private ByteBuf counted(Verdict verdict, Reply reply) {
    metrics.answered(verdict instanceof Verdict.Verified verified ? verified.message().type() : null, reply);
    return encode(verdict, reply);
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
    answer(CompletableFuture.completedFuture(null), CompletableFuture.completedFuture(error), true, 0);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
    if (event == TlsDetector.PLAINTEXT
        || event instanceof SslHandshakeCompletionEvent handshake && handshake.isSuccess()) {
      start();
    } else if (event instanceof SslHandshakeCompletionEvent failed) {
      metrics.transport(ServerMetrics.Transport.TLS_FAILED);
      log.debug("Connection {}: TLS handshake failed: {}", session, failed.cause().toString());
    } else if (event instanceof IdleStateEvent) {
      if (started) {
        session.push(PING);
      }
    } else if (event instanceof ChannelInputShutdownEvent) {
      // The client sent its last frame and half-closed: answer everything, then close.
      closing = true;
      writeTail = writeTail.thenRun(() -> session.writeInOrder(() -> {
        channel.flush(); // the answers just written in this batch leave first
        channel.close();
      }));
    } else {
      ctx.fireUserEventTriggered(event);
    }
  }

  private static final JsonObject PING = JsonObject.builder().put("type", "ping").build();

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof IOException || cause.getCause() instanceof SSLException) {
      // A reset, or a TLS handshake the client gave up (it did not trust the certificate, ...).
      log.debug("Connection {}: {}", session, cause.toString());
      ctx.close();
    } else {
      log.warn("Connection {}: closing after an unexpected error", session, cause);
      ctx.close();
    }
  }
}
