package org.esmp.api.group;

import java.util.List;
import java.util.Objects;
import org.esmp.api.Address;

/**
 * What a thread entry does: the group afterwards, and whose mailbox gets the entry.
 *
 * @param after the group state after the entry ({@code lastSeq} is set by the ledger)
 * @param recipients the addresses whose mailboxes get the entry, each once
 */
public record GroupChange(GroupState after, List<Address> recipients) {

  /** Copies the list; checks for {@code null}. */
  public GroupChange {
    Objects.requireNonNull(after, "after");
    recipients = List.copyOf(recipients);
  }
}
