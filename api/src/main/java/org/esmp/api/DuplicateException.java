package org.esmp.api;

import java.util.Objects;
import org.esmp.api.json.JsonObject;

/**
 * A commit recorded a message as accepted (see {@link Store#commit(Request, Writes, Reply)}), but
 * the message had been accepted already, by another path (a resend processed at the same time,
 * or another server of a cluster). Nothing of the commit was applied. The server answers the
 * message with the answer recorded the first time and {@code "duplicate":true} (ESMP/1 section
 * 2.2): a plugin lets this exception through rather than retrying.
 */
public class DuplicateException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final transient JsonObject answer;

  /**
   * @param answer the fields recorded with the first acceptance (see
   *     {@link org.esmp.api.spi.StorageChange.Accepted#answer()})
   */
  public DuplicateException(MessageId id, JsonObject answer) {
    super("message " + id + " was already accepted");
    this.answer = Objects.requireNonNull(answer, "answer");
  }

  /** The fields of the answer recorded when the message was first accepted. */
  public JsonObject answer() {
    return answer;
  }
}
