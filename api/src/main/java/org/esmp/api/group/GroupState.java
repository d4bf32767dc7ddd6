package org.esmp.api.group;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.esmp.api.Address;

/**
 * A group as its thread so far makes it (ESMP/1 section 6). Immutable.
 *
 * @param groupId the group's id
 * @param name its name, if it has one
 * @param policy who may join
 * @param members the members, longest-standing first
 * @param admins the admins, a subset of the members, in the order they became admin
 * @param lastSeq the {@code seq} of the newest thread entry
 */
public record GroupState(
    String groupId, Optional<String> name, Policy policy, List<Address> members, List<Address> admins, long lastSeq) {

  /** Who may join a group. */
  public enum Policy {
    /** Only an admin adds members. */
    INVITE,
    /** Anyone registered may join. */
    OPEN
  }

  /** Copies the lists; checks for {@code null}. */
  public GroupState {
    Objects.requireNonNull(groupId, "groupId");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(policy, "policy");
    members = List.copyOf(members);
    admins = List.copyOf(admins);
  }

  /** Whether {@code address} is a member. */
  public boolean isMember(Address address) {
    return members.contains(address);
  }

  /** Whether {@code address} is an admin. */
  public boolean isAdmin(Address address) {
    return admins.contains(address);
  }

  /** This state with other members and admins (same name, policy and seq). */
  public GroupState withMembers(List<Address> newMembers, List<Address> newAdmins) {
    return new GroupState(groupId, name, policy, newMembers, newAdmins, lastSeq);
  }
}
