package org.esmp.load.scenario;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.esmp.load.net.DeliveryTracker;
import org.esmp.load.net.ErrorTally;
import org.esmp.load.net.LoadException;
import org.esmp.load.net.LoadIdentity;
import org.esmp.load.net.Pipeline;
import org.esmp.load.net.ServerSession;

/**
 * The online connections of a scenario, one per identity, sharing its error tally and delivery
 * tracker; closing this closes them all.
 */
final class Pipelines implements AutoCloseable {

  private final List<Pipeline> pipelines;
  private final ErrorTally errors;
  private final DeliveryTracker deliveries;

  private Pipelines(List<Pipeline> pipelines, ErrorTally errors, DeliveryTracker deliveries) {
    this.pipelines = pipelines;
    this.errors = errors;
    this.deliveries = deliveries;
  }

  /** Opens, authenticates and (when {@code sync}) syncs a connection for each identity. */
  static Pipelines open(RunContext context, List<LoadIdentity> identities, boolean sync)
      throws IOException, LoadException, InterruptedException {
    ErrorTally errors = new ErrorTally();
    DeliveryTracker deliveries = new DeliveryTracker();
    List<Pipeline> pipelines = new ArrayList<>();
    for (ServerSession session : Sessions.open(context, identities, sync).all()) {
      pipelines.add(new Pipeline(session, context.settings().window(), context.settings().timeoutMillis(), errors,
          deliveries));
    }
    return new Pipelines(pipelines, errors, deliveries);
  }

  List<Pipeline> all() {
    return pipelines;
  }

  Pipeline get(int i) {
    return pipelines.get(i);
  }

  int size() {
    return pipelines.size();
  }

  ErrorTally errors() {
    return errors;
  }

  DeliveryTracker deliveries() {
    return deliveries;
  }

  @Override
  public void close() {
    pipelines.forEach(Pipeline::close);
  }
}
