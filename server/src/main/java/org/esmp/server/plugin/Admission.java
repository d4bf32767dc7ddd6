package org.esmp.server.plugin;

import java.util.Collection;
import java.util.List;
import java.util.Set;
import org.esmp.api.Delivery;
import org.esmp.server.session.AddressStates;
import org.esmp.server.verify.FrameVerifier;

/**
 * Whether a started plugin may join the running ones. A plugin is taken or refused as a whole: it
 * is refused for an id the server keeps for itself ({@value AddressStates#SERVER_SPACES}: the
 * server's own key-value spaces are named after it, and a plugin may use the spaces named after its
 * id), for what is wrong with its own declarations ({@link RunningPlugin#refusals}), for
 * providing a storage while the server runs, for a malformed type name, a type the server answers
 * itself, a type another running plugin declares, or a delivery scope another one delivers.
 *
 * <p>Immutable; it reads nothing but its arguments.
 */
final class Admission {

  private final Set<String> coreTypes;

  /** @param coreTypes types the server answers itself; a plugin cannot take them over */
  Admission(Set<String> coreTypes) {
    this.coreTypes = Set.copyOf(coreTypes);
  }

  /**
   * Why {@code candidate} may not join {@code running}, or {@code null} when it may. The first
   * reason found is given, in this order: its own declarations, its storage, its types, its
   * deliveries.
   *
   * @param atStart whether the server is starting: the only time a storage may join
   * @param running the running plugins, in load order
   * @throws IllegalStateException when the server is starting and {@code candidate} provides a
   *     storage while one of {@code running} does too: the server must not start
   */
  String refusal(RunningPlugin candidate, boolean atStart, Collection<RunningPlugin> running) {
    String reserved = AddressStates.SERVER_SPACES;
    if (candidate.id().equals(reserved) || candidate.id().startsWith(reserved + ".")) {
      return "plugin id '" + candidate.id() + "' is the server's own (its spaces are named " + reserved + " and "
          + reserved + ".*)";
    }
    if (!candidate.refusals().isEmpty()) {
      return candidate.refusals().get(0);
    }
    if (candidate.storage().isPresent()) {
      if (!atStart) {
        return "it provides a storage, and the storage is chosen when the server starts (restart the server to use it)";
      }
      List<String> others = storages(running);
      if (!others.isEmpty()) {
        throw new IllegalStateException("more than one storage plugin installed (" + others.get(0) + ", "
            + candidate.id() + "): remove all but one from the plugins directory");
      }
    }
    for (String type : candidate.types().keySet()) {
      if (type == null || !FrameVerifier.isTypeName(type)) {
        return "type '" + type + "' is not 1-64 characters of [a-z0-9_.-]";
      }
      if (coreTypes.contains(type)) {
        return "type '" + type + "' is answered by the server itself";
      }
      for (RunningPlugin other : running) {
        if (other.types().containsKey(type)) {
          return "type '" + type + "' is already declared by plugin " + other.id();
        }
      }
    }
    for (Delivery.Scope scope : candidate.deliveries().keySet()) {
      for (RunningPlugin other : running) {
        if (other.deliveries().containsKey(scope)) {
          return "plugin " + other.id() + " already delivers " + scope.toString().toLowerCase() + " messages";
        }
      }
    }
    return null;
  }

  /** Ids of the plugins of {@code running} that provide a storage, in its order. */
  static List<String> storages(Collection<RunningPlugin> running) {
    return running.stream().filter(r -> r.storage().isPresent()).map(RunningPlugin::id).toList();
  }
}
