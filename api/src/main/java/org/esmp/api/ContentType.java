package org.esmp.api;

import org.esmp.api.json.JsonValue;
import org.pf4j.ExtensionPoint;

/**
 * Declares a content type, such as {@code text}: a message a person sends to people, routed by the
 * server to the {@link Delivery} for direct messages (no {@code group_id}) or for groups.
 *
 * <p>The server creates one instance per plugin start and reads {@link #type()} and
 * {@link #ephemeral()} once. {@link #validate} is called for every message of the type, after all
 * checks of ESMP/1 section 3 but before delivery, on the plugin's own threads, several at once:
 * keep it pure and quick.
 *
 * <p><b>Fail closed.</b> Only a body that {@code validate} accepted, by returning within the plugin
 * call timeout, is delivered. If it throws anything but {@link RejectedException}, or does not
 * return in time, the message is answered {@code internal} and never delivered, whatever it
 * answers later.
 */
public interface ContentType extends ExtensionPoint {

  /** The type name, 1–64 characters of {@code [a-z0-9_.-]}. */
  String type();

  /** Whether messages of this type are delivered live only, never stored or synced. */
  default boolean ephemeral() {
    return false;
  }

  /**
   * Checks a message's {@code body}. There is no default: a type must say what it accepts, and one
   * that really accepts any body says so with an empty method.
   *
   * @throws RejectedException with {@link ErrorCode#BAD_FIELD} when the body is not acceptable
   */
  void validate(JsonValue body);
}
