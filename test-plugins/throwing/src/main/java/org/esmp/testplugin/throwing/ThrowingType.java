package org.esmp.testplugin.throwing;

import org.esmp.api.ContentType;
import org.esmp.api.json.JsonValue;
import org.pf4j.Extension;

/** The content type {@code boom}, whose body check throws: no {@code boom} is ever delivered. */
@Extension
public class ThrowingType implements ContentType {

  @Override
  public String type() {
    return "boom";
  }

  @Override
  public void validate(JsonValue body) {
    throw new IllegalStateException("test-throwing: validate always throws");
  }
}
