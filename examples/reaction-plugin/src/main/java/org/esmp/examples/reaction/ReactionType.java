package org.esmp.examples.reaction;

import java.util.Set;
import org.esmp.api.ContentType;
import org.esmp.api.ErrorCode;
import org.esmp.api.RejectedException;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonString;
import org.esmp.api.json.JsonValue;
import org.pf4j.Extension;

/**
 * The content type {@code reaction}: a reaction to a message, such as a thumbs-up. Its body is
 * {@code {"emoji": "👍", "target": "<id of the message reacted to>"}}, nothing more:
 * {@code emoji} is 1 to 16 characters (Unicode code points, so skin tones and flags fit),
 * {@code target} a message id, 64 lowercase hex digits. Any other body is refused with
 * {@code bad_field}.
 *
 * <p>A content type only declares and checks: the server hands an accepted reaction to the
 * installed deliveries, which deliver it like {@code text}, to people directly or into a group's
 * thread. {@link #validate} is called from many server threads at once; it keeps no state.
 */
@Extension
public class ReactionType implements ContentType {

  /** Most characters of {@code emoji}. */
  static final int MAX_EMOJI = 16;

  private static final Set<String> MEMBERS = Set.of("emoji", "target");

  @Override
  public String type() {
    return "reaction";
  }

  @Override
  public void validate(JsonValue body) {
    if (!(body instanceof JsonObject object) || !object.names().equals(MEMBERS)) {
      throw refused("a reaction body is {\"emoji\": ..., \"target\": ...} and nothing more");
    }
    if (!(object.get("emoji") instanceof JsonString emoji)) {
      throw refused("emoji is a string");
    }
    int characters = emoji.value().codePointCount(0, emoji.value().length());
    if (characters < 1 || characters > MAX_EMOJI) {
      throw refused("emoji is 1 to " + MAX_EMOJI + " characters");
    }
    if (!(object.get("target") instanceof JsonString target) || !isMessageId(target.value())) {
      throw refused("target is a message id: 64 lowercase hex digits");
    }
  }

  private static boolean isMessageId(String text) {
    if (text.length() != 64) {
      return false;
    }
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }

  private static RejectedException refused(String why) {
    return new RejectedException(ErrorCode.BAD_FIELD, why);
  }
}
