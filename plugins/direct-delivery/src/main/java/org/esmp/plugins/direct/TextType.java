package org.esmp.plugins.direct;

import org.esmp.api.ContentType;
import org.esmp.api.ErrorCode;
import org.esmp.api.RejectedException;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonValue;
import org.pf4j.Extension;

/** The content type {@code text}: its body is any JSON object (ESMP/1 section 7). */
@Extension
public class TextType implements ContentType {

  @Override
  public String type() {
    return "text";
  }

  @Override
  public void validate(JsonValue body) {
    if (!(body instanceof JsonObject)) {
      throw new RejectedException(ErrorCode.BAD_FIELD, "a text body is a JSON object");
    }
  }
}
