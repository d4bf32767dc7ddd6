package org.esmp.testplugin.hanging;

import org.esmp.api.ContentType;
import org.esmp.api.json.JsonNumber;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonValue;
import org.pf4j.Extension;

/**
 * The content type {@code hang}: its body check takes {@code body.ms} milliseconds, deaf to
 * interrupts, and then accepts the body. Past the plugin call timeout the message must be refused
 * and never delivered, whatever the check says afterwards.
 */
@Extension
public class HangingType implements ContentType {

  @Override
  public String type() {
    return "hang";
  }

  @Override
  public void validate(JsonValue body) {
    long ms = body instanceof JsonObject object && object.get("ms") instanceof JsonNumber n ? n.longValue() : 0;
    long end = System.currentTimeMillis() + ms;
    for (long left = ms; left > 0; left = end - System.currentTimeMillis()) {
      try {
        Thread.sleep(left);
      } catch (InterruptedException e) {
        // deaf to interrupts on purpose
      }
    }
  }
}
