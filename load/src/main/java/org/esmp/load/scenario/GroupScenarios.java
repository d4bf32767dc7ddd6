package org.esmp.load.scenario;

import java.io.IOException;
import org.esmp.load.net.LoadException;

/**
 * Hands {@code fanout} and {@code paced} one {@link GroupFixture}, made when the first needs it
 * and closed after the last of them.
 */
public final class GroupScenarios implements AutoCloseable {

  private GroupFixture fixture;
  private int made;

  GroupFixture fixture(RunContext context) throws IOException, LoadException, InterruptedException {
    if (fixture == null) {
      // a fixture made after one failed needs addresses of its own: the first ones are registered
      fixture = GroupFixture.create(context, made == 0 ? "g" : "g" + made + "-");
      made++;
    }
    return fixture;
  }

  /** Drops a fixture that failed, so that the next scenario makes a fresh one. */
  void discard() {
    close();
  }

  @Override
  public void close() {
    if (fixture != null) {
      fixture.close();
      fixture = null;
    }
  }
}
