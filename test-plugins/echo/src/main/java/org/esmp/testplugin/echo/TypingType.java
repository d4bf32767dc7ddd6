package org.esmp.testplugin.echo;

import org.esmp.api.ContentType;
import org.esmp.api.json.JsonValue;
import org.pf4j.Extension;

/**
 * The content type {@code typing}: ephemeral (delivered live to the connections following the
 * recipients' mailboxes, never stored), any body. For the tests of ephemeral delivery, on one
 * server and across the servers of a cluster.
 */
@Extension
public class TypingType implements ContentType {

  @Override
  public String type() {
    return "typing";
  }

  @Override
  public boolean ephemeral() {
    return true;
  }

  @Override
  public void validate(JsonValue body) {}
}
