package org.esmp.api.group;

import java.util.Optional;

/** Decides what one thread entry does to its group; see {@link GroupLedger#append}. */
@FunctionalInterface
public interface GroupRule {

  /**
   * @param current the group before the entry, empty when it does not exist
   * @return the group after the entry and its recipients
   * @throws org.esmp.api.RejectedException to refuse the entry (nothing is appended)
   */
  GroupChange apply(Optional<GroupState> current);
}
