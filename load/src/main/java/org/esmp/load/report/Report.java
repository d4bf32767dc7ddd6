package org.esmp.load.report;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.esmp.load.probe.MachineInfo;
import org.esmp.load.probe.OpensslSpeed;

/**
 * A whole run: when, with which parameters, on what machine, the openssl yardstick, the server
 * measured, and each scenario's result.
 *
 * @param server where the server was and how it was observed ("pid", "pid_source", ...)
 */
public record Report(String toolVersion, Instant timestamp, Map<String, Object> parameters, MachineInfo machine,
    OpensslSpeed.Result openssl, Map<String, Object> server, List<ScenarioResult> scenarios) {

  public Report {
    scenarios = List.copyOf(scenarios);
  }

  /** Whether every scenario ran to its end. */
  public boolean complete() {
    return scenarios.stream().allMatch(s -> s.failure() == null);
  }
}
