package org.esmp.testplugin.hanging;

import org.esmp.api.MessageListener;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.pf4j.Extension;

/** A listener that takes a minute over every message (it stops when interrupted). */
@Extension
public class HangingListener implements MessageListener {

  @Override
  public void onMessage(Request request, Reply reply) {
    try {
      Thread.sleep(60_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
