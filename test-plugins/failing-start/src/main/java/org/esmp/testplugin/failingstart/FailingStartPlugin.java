package org.esmp.testplugin.failingstart;

import org.pf4j.Plugin;

/** A plugin that fails to start: its type {@code never} must stay unsupported. */
public class FailingStartPlugin extends Plugin {

  @Override
  public void start() {
    throw new IllegalStateException("test-failing-start: start() always throws");
  }
}
