package org.esmp.load.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one scenario measured: its metrics in order, the errors the server answered, notes, and
 * why it stopped early if it did (what it measured until then stays).
 *
 * @param setup one line: the scenario's parameters as run
 * @param failure why the scenario stopped early, or null
 */
public record ScenarioResult(String name, String setup, List<Metric> metrics, Map<String, Long> errors,
    List<String> notes, String failure) {

  public ScenarioResult {
    metrics = List.copyOf(metrics);
    errors = Map.copyOf(errors);
    notes = List.copyOf(notes);
  }

  public static Builder builder(String name) {
    return new Builder(name);
  }

  /** The value of metric {@code key}, or NaN. */
  public double value(String key) {
    return metrics.stream().filter(m -> m.key().equals(key)).mapToDouble(Metric::value).findFirst().orElse(Double.NaN);
  }

  /** Collects a result while a scenario runs. Not thread-safe. */
  public static final class Builder {
    private final String name;
    private String setup = "";
    private final List<Metric> metrics = new ArrayList<>();
    private final Map<String, Long> errors = new LinkedHashMap<>();
    private final List<String> notes = new ArrayList<>();
    private String failure;

    private Builder(String name) {
      this.name = name;
    }

    public Builder setup(String setup) {
      this.setup = setup;
      return this;
    }

    public Builder add(Metric metric) {
      metrics.add(metric);
      return this;
    }

    public Builder errors(Map<String, Long> counts) {
      counts.forEach((code, n) -> errors.merge(code, n, Long::sum));
      return this;
    }

    public Builder note(String note) {
      notes.add(note);
      return this;
    }

    public Builder failure(String why) {
      failure = why;
      return this;
    }

    public ScenarioResult build() {
      return new ScenarioResult(name, setup, metrics, errors, notes, failure);
    }
  }
}
