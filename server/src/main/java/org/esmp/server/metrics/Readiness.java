package org.esmp.server.metrics;

/** Whether the server can serve: what {@code GET /ready} answers. */
@FunctionalInterface
public interface Readiness {

  /**
   * Why the server cannot serve now (starting, stopping, no storage...), in a few words; null when
   * it can. Called on the metrics port's thread: cheap, never blocking.
   */
  String notReady();
}
