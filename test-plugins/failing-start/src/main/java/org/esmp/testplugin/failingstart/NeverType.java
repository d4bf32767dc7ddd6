package org.esmp.testplugin.failingstart;

import org.esmp.api.ContentType;
import org.esmp.api.json.JsonValue;
import org.pf4j.Extension;

/** The content type {@code never}, of a plugin that never starts. */
@Extension
public class NeverType implements ContentType {

  @Override
  public String type() {
    return "never";
  }

  @Override
  public void validate(JsonValue body) {
    // Never called: the plugin never starts.
  }
}
