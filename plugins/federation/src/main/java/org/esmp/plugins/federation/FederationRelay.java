package org.esmp.plugins.federation;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.esmp.api.Ed25519Key;
import org.esmp.api.ErrorCode;
import org.esmp.api.RejectedException;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.esmp.api.ServerContext;
import org.esmp.api.federation.Federation;
import org.esmp.api.federation.Relay;
import org.pf4j.Extension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The federation plugin's {@link Relay} (ESMP/1 section 8): one {@link PeerOutbox}, with a thread
 * of its own, per domain that has something waiting or is asked for; a timer that sweeps every
 * outbox at start and every minute ({@link OutboxSweep}) and ends forwards not answered within
 * {@code federation_answer_seconds}; and a small pool that learns peers' keys for {@link #peerKey}.
 * Every method returns at once. {@link #close} stops every thread and socket.
 */
@Extension
public final class FederationRelay implements Relay, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(FederationRelay.class);
  private static final long SWEEP_SECONDS = 60;
  /** How long the first sweep waits for the storage before it says so. */
  private static final int STORAGE_WAIT_LOG_SECONDS = 30;

  private final Federation federation;
  private final PeerTrust trust;
  private final PeerConnector connector;
  private final FederationParts parts;
  private final Map<String, PeerOutbox> peers = new ConcurrentHashMap<>();
  private final Map<String, CompletableFuture<Ed25519Key>> learning = new ConcurrentHashMap<>();
  private final ScheduledExecutorService timer;
  private final ExecutorService keys;
  private volatile boolean closed;
  /** Seconds the first sweep waited for the storage; on the timer's thread only. */
  private int startWaited;


  public FederationRelay(ServerContext context) {
    this(context, OutboxLease.TTL_MILLIS);
  }

  /** @param leaseMillis how long an outbox's lease lasts unrenewed (tests shorten it) */
  FederationRelay(ServerContext context, long leaseMillis) {
    this.federation = context.federation();
    PeerTls tls;
    try {
      tls = new PeerTls(federation.settings().tlsTrust());
    } catch (IOException e) {
      throw new UncheckedIOException("federation cannot start: " + e.getMessage(), e);
    }
    Frames frames = new Frames(federation);
    this.trust = new PeerTrust(federation, context.store());
    this.connector = new PeerConnector(context.domain(), federation, tls, trust, frames, context.json());
    this.parts = new FederationParts(federation, context.store(), context.json(), connector, frames,
        new Notices(context), leaseHolder(context.dataDirectory()), leaseMillis);
    this.timer = Executors.newSingleThreadScheduledExecutor(daemon("federation-timer"));
    this.keys = Executors.newCachedThreadPool(daemon("federation-keys"));
    timer.execute(this::firstSweep);
  }

  /**
   * The sweep at start, once the storage is there (plugins start in any order: it may come after
   * this one): what waited across a restart goes at once. Then every minute.
   */
  private void firstSweep() {
    if (closed) {
      return;
    }
    if (!sweepAll(startWaited >= STORAGE_WAIT_LOG_SECONDS)) {
      startWaited++;
      timer.schedule(this::firstSweep, 1, TimeUnit.SECONDS);
      return;
    }
    timer.scheduleWithFixedDelay(() -> sweepAll(true), SWEEP_SECONDS, SWEEP_SECONDS, TimeUnit.SECONDS);
  }

  /**
   * Every outbox: apply its bounds, log its state, send what waits. Whether the outbox could be
   * listed; a failure is logged when {@code logFailure}.
   */
  private boolean sweepAll(boolean logFailure) {
    try {
      for (String domain : federation.outboxDomains()) {
        PeerOutbox peer = peer(domain);
        peer.sweepSoon();
        peer.flush();
      }
      return true;
    } catch (RuntimeException e) {
      if (logFailure) {
        log.warn("Federation: could not list the outbox: {}", e.toString());
      }
      return false;
    }
  }

  /**
   * This server's name in the outbox leases it holds: kept in {@code federation/lease-holder} of the
   * data directory, so that the same server restarted (after a crash, say) holds its leases again at
   * once instead of waiting for them to run out; a random one without a data directory.
   */
  static String leaseHolder(Path dataDirectory) {
    if (dataDirectory == null) {
      return UUID.randomUUID().toString();
    }
    Path file = dataDirectory.resolve("federation").resolve("lease-holder");
    try {
      if (Files.isRegularFile(file)) {
        String name = Files.readString(file, StandardCharsets.US_ASCII).strip();
        if (!name.isEmpty() && !name.contains(" ")) {
          return name;
        }
      }
      Files.createDirectories(file.getParent());
      String name = UUID.randomUUID().toString();
      Files.writeString(file, name + "\n", StandardCharsets.US_ASCII);
      return name;
    } catch (IOException e) {
      log.warn("Federation: cannot keep this server's lease name in {} ({}); a crash will delay its outboxes by up to "
          + "{} s", file, e.toString(), OutboxLease.TTL_MILLIS / 1000);
      return UUID.randomUUID().toString();
    }
  }

  /** This server's name in the outbox leases it holds. */
  String leaseHolder() {
    return parts.leaseHolder();
  }

  private PeerOutbox peer(String domain) {
    return peers.computeIfAbsent(domain, d -> {
      PeerOutbox peer = new PeerOutbox(d, parts);
      if (!closed) {
        peer.start();
      }
      return peer;
    });
  }

  @Override
  public CompletionStage<Reply> forward(Request request, String domain) {
    CompletableFuture<Reply> answer = new CompletableFuture<>();
    if (closed) {
      answer.completeExceptionally(new RejectedException(ErrorCode.PEER_UNAVAILABLE, "federation is stopping"));
      return answer;
    }
    long timeout = federation.settings().answerTimeout().toMillis();
    timer.schedule(() -> answer.completeExceptionally(new RejectedException(ErrorCode.PEER_UNAVAILABLE,
        domain + " did not answer within " + timeout + " ms")), timeout, TimeUnit.MILLISECONDS);
    peer(domain).forward(request, answer);
    return answer;
  }

  @Override
  public CompletionStage<Ed25519Key> peerKey(String domain) {
    java.util.Optional<Ed25519Key> known = trust.known(domain);
    if (known.isPresent()) {
      return CompletableFuture.completedFuture(known.get());
    }
    return learning.computeIfAbsent(domain, d -> {
      CompletableFuture<Ed25519Key> key = new CompletableFuture<>();
      try {
        keys.execute(() -> {
          try {
            key.complete(connector.learnKey(d));
          } catch (PeerException e) {
            log.warn("Federation: no trusted key for {}: {}", d, e.getMessage());
            key.completeExceptionally(new RejectedException(ErrorCode.FORBIDDEN,
                "no trusted key for " + d + ": " + e.getMessage()));
          } finally {
            learning.remove(d, key);
          }
        });
      } catch (java.util.concurrent.RejectedExecutionException e) {
        key.completeExceptionally(new RejectedException(ErrorCode.PEER_UNAVAILABLE, "federation is stopping"));
      }
      return key;
    });
  }

  @Override
  public void appended(Set<String> domains) {
    domains.forEach(d -> peer(d).flush());
  }

  @Override
  public void peerSeen(String domain) {
    peer(domain).seen();
  }

  @Override
  public Map<String, OutboxStatus> outboxes() {
    Map<String, OutboxStatus> status = new LinkedHashMap<>();
    peers.forEach((domain, peer) -> status.put(domain, peer.status().snapshot()));
    return status;
  }

  @Override
  public void close() {
    closed = true;
    timer.shutdownNow();
    keys.shutdownNow();
    connector.close();
    peers.values().forEach(PeerOutbox::stop); // all at once, then wait for each
    peers.values().forEach(PeerOutbox::close);
    learning.values().forEach(k -> k.completeExceptionally(
        new RejectedException(ErrorCode.PEER_UNAVAILABLE, "federation is stopping")));
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return runnable -> {
      Thread thread = new Thread(runnable, name);
      thread.setDaemon(true);
      return thread;
    };
  }
}
