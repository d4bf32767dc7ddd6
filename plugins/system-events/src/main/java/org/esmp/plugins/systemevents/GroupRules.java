package org.esmp.plugins.systemevents;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import org.esmp.api.Address;
import org.esmp.api.ErrorCode;
import org.esmp.api.RejectedException;
import org.esmp.api.group.GroupChange;
import org.esmp.api.group.GroupRule;
import org.esmp.api.group.GroupState;

/**
 * The rules of the system events (ESMP/1 section 6), as {@link GroupRule}s for
 * {@link org.esmp.api.group.GroupLedger#append}: each sees the group's committed state, and either
 * refuses with the protocol's code or says what the group becomes and who gets the event.
 *
 * <p>Refusals, first match wins: an unknown group (other than for {@code group_created}) is
 * {@code no_such_group}; a {@code joined} for oneself into an invite-only group is
 * {@code forbidden}; any other event from a non-member is {@code not_member}; one from a member who
 * may not send it is {@code forbidden}; one that would make the group larger than its limit is
 * {@code forbidden}; {@code joined} for a member and {@code removed} for a
 * non-member (or oneself) are {@code bad_field}; naming an address of this server that does not
 * exist is {@code unknown_recipient}.
 *
 * <p>Admins: whenever members remain but no admin does, the longest-standing member (the first in
 * {@link GroupState#members()}) becomes admin.
 *
 * <p>Pure: the rules read nothing but their arguments (and the {@code missing} predicate they are
 * given), so they are safe on any thread and testable without a server.
 */
final class GroupRules {

  private GroupRules() {}

  /** What {@code group_created} asks for: the body's name, listed members and policy. */
  record Creation(Optional<String> name, List<Address> members, GroupState.Policy policy) {
    Creation {
      members = List.copyOf(members);
    }
  }

  /**
   * {@code group_created}: a new group whose first member and only admin is the sender, followed by
   * the listed members (each once, in order). Everyone in it gets the event.
   *
   * @param missing whether an address is of a domain this server serves but does not exist
   * @param maxMembers most members a group may have
   */
  static GroupRule created(String groupId, Address sender, Creation creation, Predicate<Address> missing,
      int maxMembers) {
    return current -> {
      if (current.isPresent()) {
        throw new RejectedException(ErrorCode.GROUP_EXISTS, "a group with this group_id exists");
      }
      LinkedHashSet<Address> members = new LinkedHashSet<>();
      members.add(sender);
      members.addAll(creation.members());
      if (members.size() > maxMembers) {
        throw new RejectedException(ErrorCode.FORBIDDEN,
            "a group has at most " + maxMembers + " members, the creator included; " + members.size() + " asked for");
      }
      for (Address member : members) {
        if (missing.test(member)) {
          throw new RejectedException(ErrorCode.UNKNOWN_RECIPIENT, member + " does not exist");
        }
      }
      GroupState after = new GroupState(groupId, creation.name(), creation.policy(), List.copyOf(members),
          List.of(sender), 0);
      return new GroupChange(after, after.members());
    };
  }

  /**
   * {@code joined}: {@code member} (the sender itself, or someone an admin adds) becomes the newest
   * member. Every member afterwards gets the event.
   *
   * @param maxMembers most members a group may have
   */
  static GroupRule joined(Address sender, Address member, Predicate<Address> missing, int maxMembers) {
    return current -> {
      GroupState group = existing(current);
      if (member.equals(sender)) {
        if (group.policy() == GroupState.Policy.INVITE) {
          throw new RejectedException(ErrorCode.FORBIDDEN, "the group is invite-only: an admin must add you");
        }
      } else {
        mustBeMember(group, sender);
        if (!group.isAdmin(sender)) {
          throw new RejectedException(ErrorCode.FORBIDDEN, "only an admin adds someone else");
        }
      }
      if (group.isMember(member)) {
        throw new RejectedException(ErrorCode.BAD_FIELD, member + " is already a member");
      }
      if (group.members().size() >= maxMembers) {
        throw new RejectedException(ErrorCode.FORBIDDEN, "the group is full: it has " + group.members().size()
            + " members, the most a group may have");
      }
      if (missing.test(member)) {
        throw new RejectedException(ErrorCode.UNKNOWN_RECIPIENT, member + " does not exist");
      }
      List<Address> members = new ArrayList<>(group.members());
      members.add(member);
      GroupState after = withSuccession(group, members, group.admins());
      return new GroupChange(after, after.members());
    };
  }

  /** {@code left}: the sender stops being a member. The members afterwards and the sender get the event. */
  static GroupRule left(Address sender) {
    return current -> {
      GroupState group = existing(current);
      mustBeMember(group, sender);
      GroupState after = without(group, sender);
      return new GroupChange(after, plus(after.members(), sender));
    };
  }

  /**
   * {@code removed}: an admin removes another member. The members afterwards and the removed member
   * get the event.
   */
  static GroupRule removed(Address sender, Address member) {
    return current -> {
      GroupState group = existing(current);
      mustBeMember(group, sender);
      if (!group.isAdmin(sender)) {
        throw new RejectedException(ErrorCode.FORBIDDEN, "only an admin removes members");
      }
      if (member.equals(sender)) {
        throw new RejectedException(ErrorCode.BAD_FIELD, "removing oneself is done with left");
      }
      if (!group.isMember(member)) {
        throw new RejectedException(ErrorCode.BAD_FIELD, member + " is not a member");
      }
      GroupState after = without(group, member);
      return new GroupChange(after, plus(after.members(), member));
    };
  }

  private static GroupState existing(Optional<GroupState> current) {
    return current.orElseThrow(() -> new RejectedException(ErrorCode.NO_SUCH_GROUP, "no such group"));
  }

  private static void mustBeMember(GroupState group, Address sender) {
    if (!group.isMember(sender)) {
      throw new RejectedException(ErrorCode.NOT_MEMBER, "the sender is not a member of the group");
    }
  }

  private static GroupState without(GroupState group, Address leaving) {
    List<Address> members = new ArrayList<>(group.members());
    members.remove(leaving);
    return withSuccession(group, members, group.admins());
  }

  /** {@code group} with these members and those of {@code admins} who are still members, or else its oldest member. */
  private static GroupState withSuccession(GroupState group, List<Address> members, List<Address> admins) {
    List<Address> remaining = new ArrayList<>(admins);
    remaining.retainAll(members);
    if (remaining.isEmpty() && !members.isEmpty()) {
      remaining.add(members.get(0));
    }
    return group.withMembers(members, remaining);
  }

  private static List<Address> plus(List<Address> members, Address extra) {
    List<Address> all = new ArrayList<>(members);
    if (!all.contains(extra)) {
      all.add(extra);
    }
    return all;
  }
}
