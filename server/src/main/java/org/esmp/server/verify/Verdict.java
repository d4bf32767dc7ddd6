package org.esmp.server.verify;

import org.esmp.api.ErrorCode;
import org.esmp.api.MessageId;
import org.esmp.api.SignedMessage;

/** What {@link FrameVerifier} concluded about one frame. */
public sealed interface Verdict {

  /** The id to put in the answer's {@code re}; {@code null} when none could be computed. */
  MessageId re();

  /** The frame is a well-formed message with a valid signature. */
  record Verified(SignedMessage message) implements Verdict {
    @Override
    public MessageId re() {
      return message.id();
    }
  }

  /** The frame is refused with {@code code}; {@code re} is null when no id could be computed. */
  record Refused(MessageId re, ErrorCode code, String reason) implements Verdict {}
}
