package org.esmp.plugins.federation;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.esmp.api.Store;
import org.esmp.api.Writes;

/**
 * Which server sends one domain's outbox when several share one storage (a cluster): the one
 * holding the domain's lease, a value of space {@value #SPACE} (key: the domain; value: {@code
 * "HOLDER UNTIL"}, UNTIL in epoch milliseconds), taken and renewed with conditional commits. So
 * exactly one server sends an outbox at a time, in order per address, and makes its notices; when
 * it stops, another takes over once the lease ran out. A server alone always holds it, renewing it
 * every {@value #RENEW_MILLIS} ms while it sends. Used by the peer's own thread only.
 */
final class OutboxLease {

  /** Where leases are kept: key the domain. */
  static final String SPACE = "federation.lease";

  static final long TTL_MILLIS = 30_000;
  static final long RENEW_MILLIS = 10_000;
  private static final long COMMIT_SECONDS = 10;

  private final String domain;
  private final Store store;
  private final String holder;
  private final long ttlMillis;
  private long heldUntil;
  private boolean gained;

  /**
   * @param holder this server's name in the lease
   * @param ttlMillis how long a lease lasts unrenewed ({@value #TTL_MILLIS}; tests shorten it)
   */
  OutboxLease(String domain, Store store, String holder, long ttlMillis) {
    this.holder = holder;
    this.domain = domain;
    this.store = store;
    this.ttlMillis = ttlMillis;
  }

  /**
   * Whether this server may send the outbox now: holds the lease, taking or renewing it when due
   * (a commit, once every {@value #RENEW_MILLIS} ms at most).
   */
  boolean held(long now) {
    if (now < heldUntil - ttlMillis + Math.min(RENEW_MILLIS, ttlMillis / 3)) {
      return true;
    }
    Optional<byte[]> current = store.get(SPACE, domain);
    if (current.isPresent()) {
      String[] parts = new String(current.get(), StandardCharsets.US_ASCII).split(" ");
      boolean other = parts.length != 2 || !parts[0].equals(holder);
      long until = parts.length == 2 ? parseLong(parts[1]) : 0;
      if (other && until > now) {
        heldUntil = 0;
        return false;
      }
    }
    Writes.Builder writes = Writes.builder();
    if (current.isPresent()) {
      writes.expect(SPACE, domain, current.get());
    } else {
      writes.expectAbsent(SPACE, domain);
    }
    writes.put(SPACE, domain, (holder + " " + (now + ttlMillis)).getBytes(StandardCharsets.US_ASCII));
    try {
      store.commit(writes.build()).toCompletableFuture().get(COMMIT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      // Another server took it first (ConflictException), or the storage did not answer: not held.
      heldUntil = 0;
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      heldUntil = 0;
      return false;
    }
    gained |= heldUntil <= now;
    heldUntil = now + ttlMillis;
    return true;
  }

  long ttlMillis() {
    return ttlMillis;
  }

  /**
   * Whether the lease was taken anew since the last call (not renewed): another server may have
   * sent meanwhile, so the sent cursors must be read again.
   */
  boolean gained() {
    boolean was = gained;
    gained = false;
    return was;
  }

  private static long parseLong(String text) {
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
