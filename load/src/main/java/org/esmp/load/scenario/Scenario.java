package org.esmp.load.scenario;

import org.esmp.load.report.ScenarioResult;

/**
 * One measurement against the server. {@link #run} never throws for what the server or the network
 * does: a failure ends up in the result's {@code failure}, with whatever was measured before it.
 */
public interface Scenario {

  /** The scenario's name on the command line and in the report. */
  String name();

  /** Runs it; blocks until done. Called once, on the tool's main thread. */
  ScenarioResult run(RunContext context) throws InterruptedException;
}
