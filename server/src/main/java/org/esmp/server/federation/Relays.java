package org.esmp.server.federation;

import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.esmp.api.Ed25519Key;
import org.esmp.api.ErrorCode;
import org.esmp.api.RejectedException;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.esmp.api.federation.Relay;
import org.esmp.server.plugin.PluginRegistry;

/**
 * The server's calls into the running {@link Relay}, the federation plugin: on the plugin's own
 * threads through its {@link org.esmp.server.plugin.PluginCalls}, bounded by the plugin call
 * timeouts, so that a plugin that hangs or throws fails only the call at hand. With no relay
 * installed, other domains are out of reach.
 */
public final class Relays {

  private final Supplier<PluginRegistry> registry;

  public Relays(Supplier<PluginRegistry> registry) {
    this.registry = registry;
  }

  /** Whether a relay runs: addresses of other domains are then reachable. */
  public boolean active() {
    return running().isPresent();
  }

  /**
   * {@link Relay#forward}: {@code request} sent to the server of {@code domain}, completing with its
   * answer; {@code peer_unavailable} when no relay runs or it fails.
   */
  public CompletionStage<Reply> forward(Request request, String domain) {
    Optional<PluginRegistry.Owned<Relay>> relay = running();
    if (relay.isEmpty()) {
      return CompletableFuture.failedFuture(new RejectedException(ErrorCode.PEER_UNAVAILABLE,
          "this server has no federation plugin: " + domain + " is out of reach"));
    }
    Relay to = relay.get().extension();
    return relay.get().calls().callAsync("forward", () -> to.forward(request, domain)).result();
  }

  /** {@link Relay#peerKey}; fails when no relay runs. */
  public CompletionStage<Ed25519Key> peerKey(String domain) {
    Optional<PluginRegistry.Owned<Relay>> relay = running();
    if (relay.isEmpty()) {
      return CompletableFuture.failedFuture(new RejectedException(ErrorCode.FORBIDDEN,
          "this server has no federation plugin: it takes no server auth"));
    }
    Relay to = relay.get().extension();
    return relay.get().calls().callAsync("peerKey", () -> to.peerKey(domain)).result();
  }

  /** {@link Relay#appended}, if a relay runs. */
  public void appended(Set<String> domains) {
    running().ifPresent(relay -> relay.calls().run("appended", () -> relay.extension().appended(domains)));
  }

  /** {@link Relay#peerSeen}, if a relay runs. */
  public void peerSeen(String domain) {
    running().ifPresent(relay -> relay.calls().run("peerSeen", () -> relay.extension().peerSeen(domain)));
  }

  /** {@link Relay#outboxes}; empty when no relay runs or it fails to answer at once. */
  public Map<String, Relay.OutboxStatus> outboxes() {
    Optional<PluginRegistry.Owned<Relay>> relay = running();
    if (relay.isEmpty()) {
      return Map.of();
    }
    try {
      Map<String, Relay.OutboxStatus> outboxes = relay.get().extension().outboxes();
      return outboxes == null ? Map.of() : Map.copyOf(outboxes);
    } catch (RuntimeException e) {
      return Map.of();
    }
  }

  private Optional<PluginRegistry.Owned<Relay>> running() {
    var relays = registry.get().owned(Relay.class);
    return relays.isEmpty() ? Optional.empty() : Optional.of(relays.get(0));
  }
}
