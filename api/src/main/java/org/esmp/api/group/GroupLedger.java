package org.esmp.api.group;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.pf4j.ExtensionPoint;

/**
 * Group threads: the ordered, gapless list of each group's messages and system events, and the
 * group state they make. Provided by the group-threads plugin; used by it for group messages and
 * by the system-events plugin for {@code group_created}, {@code joined}, {@code left} and
 * {@code removed}. Found through {@link org.esmp.api.ServerContext#extensions}.
 *
 * <p>Membership is decided in thread order: {@link #append} runs its rule and assigns the next
 * {@code seq} under the group's lock, so a message racing its sender's removal is judged by
 * whichever comes first in the thread.
 */
public interface GroupLedger extends ExtensionPoint {

  /** The group's current committed state, if the group exists. */
  Optional<GroupState> group(String groupId);

  /**
   * The committed states of up to {@code limit} groups whose ids sort after {@code after}
   * ({@code ""} to start at the first), in id order: for the operator's listing
   * ({@code esmp-admin groups list}), a page at a time. Read-only (since 1.2).
   *
   * @throws UnsupportedOperationException when this ledger cannot list its groups: the default,
   *     for a ledger written for API 1.1 or earlier
   */
  default List<GroupState> groups(String after, int limit) {
    throw new UnsupportedOperationException("this group ledger cannot list its groups");
  }

  /**
   * Appends the message of {@code request} (which carries a {@code group_id}) to its group's
   * thread. Under the group's lock, {@code rule} sees the current state (empty when there is no such
   * group) and decides: it returns the state after the entry and who receives it, or throws
   * {@link org.esmp.api.RejectedException}. The entry gets the next {@code seq}; the thread entry,
   * the new state, the record of the accepted message and every recipient's mailbox entry are
   * committed together.
   *
   * @return completes once durable with {@code {"type":"ack",…,"seq":N}}, or with the rule's
   *     rejection
   */
  CompletionStage<Reply> append(Request request, GroupRule rule);
}
