package org.esmp.testplugin.throwing;

import org.esmp.api.MessageListener;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.pf4j.Extension;

/** A listener that throws on every message. */
@Extension
public class ThrowingListener implements MessageListener {

  @Override
  public void onMessage(Request request, Reply reply) {
    throw new IllegalStateException("test-throwing: the listener throws");
  }
}
