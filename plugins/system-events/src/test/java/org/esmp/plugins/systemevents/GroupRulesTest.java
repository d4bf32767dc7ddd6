package org.esmp.plugins.systemevents;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import org.esmp.api.Address;
import org.esmp.api.ErrorCode;
import org.esmp.api.RejectedException;
import org.esmp.api.group.GroupChange;
import org.esmp.api.group.GroupRule;
import org.esmp.api.group.GroupState;
import org.esmp.api.group.GroupState.Policy;
import org.junit.jupiter.api.Test;

class GroupRulesTest {

  private static final Address ALICE = Address.parse("alice#example.com");
  private static final Address BOB = Address.parse("bob#example.com");
  private static final Address CAROL = Address.parse("carol#example.com");
  private static final Address DAVE = Address.parse("dave#example.com");
  private static final Address GHOST = Address.parse("ghost#example.com"); // of this server, does not exist
  private static final Address REMOTE = Address.parse("zed#other.org");
  private static final Predicate<Address> MISSING = GHOST::equals;
  private static final int MAX = 1000;
  private static final String ID = "g-1";

  /** A group with {@code members} (longest-standing first), admins {@code admins}, 5 entries so far. */
  private static Optional<GroupState> group(Policy policy, List<Address> members, List<Address> admins) {
    return Optional.of(new GroupState(ID, Optional.of("G"), policy, members, admins, 5));
  }

  private static final Optional<GroupState> INVITE_ABC = group(Policy.INVITE, List.of(ALICE, BOB, CAROL), List.of(ALICE));
  private static final Optional<GroupState> OPEN_ABC = group(Policy.OPEN, List.of(ALICE, BOB, CAROL), List.of(ALICE));

  private static ErrorCode refusal(GroupRule rule, Optional<GroupState> current) {
    return assertThrows(RejectedException.class, () -> rule.apply(current)).code();
  }

  private static GroupRules.Creation creation(List<Address> members, Policy policy) {
    return new GroupRules.Creation(Optional.empty(), members, policy);
  }

  // ---- group_created ----

  @Test
  void createdPutsTheSenderFirstAndOnlyAdmin() {
    GroupRules.Creation creation = new GroupRules.Creation(Optional.of("Lunch"), List.of(BOB, CAROL), Policy.OPEN);
    GroupChange change = GroupRules.created(ID, ALICE, creation, MISSING, MAX).apply(Optional.empty());
    GroupState after = change.after();
    assertEquals(ID, after.groupId());
    assertEquals(Optional.of("Lunch"), after.name());
    assertEquals(Policy.OPEN, after.policy());
    assertEquals(List.of(ALICE, BOB, CAROL), after.members());
    assertEquals(List.of(ALICE), after.admins());
    assertEquals(List.of(ALICE, BOB, CAROL), change.recipients());
  }

  @Test
  void createdListsEachMemberOnceInOrder() {
    GroupChange change = GroupRules.created(ID, ALICE, creation(List.of(CAROL, ALICE, BOB, CAROL, REMOTE), Policy.INVITE),
        MISSING, MAX).apply(Optional.empty());
    assertEquals(List.of(ALICE, CAROL, BOB, REMOTE), change.after().members());
    assertEquals(List.of(ALICE, CAROL, BOB, REMOTE), change.recipients());
    assertEquals(Optional.empty(), change.after().name());
  }

  @Test
  void createdWithNoMembersIsTheSenderAlone() {
    GroupChange change = GroupRules.created(ID, ALICE, creation(List.of(), Policy.INVITE), MISSING, MAX).apply(Optional.empty());
    assertEquals(List.of(ALICE), change.after().members());
    assertEquals(List.of(ALICE), change.recipients());
  }

  @Test
  void createdForATakenIdIsGroupExists() {
    assertEquals(ErrorCode.GROUP_EXISTS,
        refusal(GroupRules.created(ID, DAVE, creation(List.of(), Policy.INVITE), MISSING, MAX), INVITE_ABC));
    assertEquals(ErrorCode.GROUP_EXISTS,
        refusal(GroupRules.created(ID, DAVE, creation(List.of(GHOST), Policy.INVITE), MISSING, MAX), INVITE_ABC),
        "a taken id is refused before the members are looked at");
  }

  @Test
  void createdListingALocalAddressThatDoesNotExistIsUnknownRecipient() {
    assertEquals(ErrorCode.UNKNOWN_RECIPIENT,
        refusal(GroupRules.created(ID, ALICE, creation(List.of(BOB, GHOST), Policy.INVITE), MISSING, MAX), Optional.empty()));
  }

  // ---- joined ----

  @Test
  void joinedForOneselfIntoAnOpenGroupAppendsTheJoiner() {
    GroupChange change = GroupRules.joined(DAVE, DAVE, MISSING, MAX).apply(OPEN_ABC);
    assertEquals(List.of(ALICE, BOB, CAROL, DAVE), change.after().members());
    assertEquals(List.of(ALICE), change.after().admins());
    assertEquals(List.of(ALICE, BOB, CAROL, DAVE), change.recipients());
    assertEquals(Optional.of("G"), change.after().name());
    assertEquals(Policy.OPEN, change.after().policy());
  }

  @Test
  void joinedForOneselfIntoAnInviteOnlyGroupIsForbidden() {
    assertEquals(ErrorCode.FORBIDDEN, refusal(GroupRules.joined(DAVE, DAVE, MISSING, MAX), INVITE_ABC));
    assertEquals(ErrorCode.FORBIDDEN, refusal(GroupRules.joined(BOB, BOB, MISSING, MAX), INVITE_ABC),
        "forbidden comes before bad_field for a member too");
  }

  @Test
  void adminAddsAnyoneToEitherPolicy() {
    for (Optional<GroupState> group : List.of(INVITE_ABC, OPEN_ABC)) {
      GroupChange change = GroupRules.joined(ALICE, DAVE, MISSING, MAX).apply(group);
      assertEquals(List.of(ALICE, BOB, CAROL, DAVE), change.after().members());
      assertEquals(List.of(ALICE, BOB, CAROL, DAVE), change.recipients());
    }
    assertEquals(List.of(ALICE, BOB, CAROL, REMOTE),
        GroupRules.joined(ALICE, REMOTE, MISSING, MAX).apply(INVITE_ABC).after().members(),
        "another server's address is kept as a member");
  }

  @Test
  void joinedForSomeoneElseFromANonMemberIsNotMember() {
    assertEquals(ErrorCode.NOT_MEMBER, refusal(GroupRules.joined(DAVE, REMOTE, MISSING, MAX), INVITE_ABC));
    assertEquals(ErrorCode.NOT_MEMBER, refusal(GroupRules.joined(DAVE, REMOTE, MISSING, MAX), OPEN_ABC));
    assertEquals(ErrorCode.NOT_MEMBER, refusal(GroupRules.joined(DAVE, BOB, MISSING, MAX), OPEN_ABC),
        "not_member comes before bad_field");
  }

  @Test
  void joinedForSomeoneElseFromAMemberWhoIsNoAdminIsForbidden() {
    assertEquals(ErrorCode.FORBIDDEN, refusal(GroupRules.joined(BOB, DAVE, MISSING, MAX), INVITE_ABC));
    assertEquals(ErrorCode.FORBIDDEN, refusal(GroupRules.joined(BOB, DAVE, MISSING, MAX), OPEN_ABC));
    assertEquals(ErrorCode.FORBIDDEN, refusal(GroupRules.joined(BOB, CAROL, MISSING, MAX), OPEN_ABC),
        "forbidden comes before bad_field");
  }

  @Test
  void joinedForAMemberIsBadField() {
    assertEquals(ErrorCode.BAD_FIELD, refusal(GroupRules.joined(ALICE, BOB, MISSING, MAX), INVITE_ABC));
    assertEquals(ErrorCode.BAD_FIELD, refusal(GroupRules.joined(BOB, BOB, MISSING, MAX), OPEN_ABC));
    assertEquals(ErrorCode.BAD_FIELD, refusal(GroupRules.joined(ALICE, ALICE, MISSING, MAX), OPEN_ABC));
  }

  @Test
  void joinedForALocalAddressThatDoesNotExistIsUnknownRecipient() {
    assertEquals(ErrorCode.UNKNOWN_RECIPIENT, refusal(GroupRules.joined(ALICE, GHOST, MISSING, MAX), INVITE_ABC));
  }

  @Test
  void joinedIntoAnUnknownGroupIsNoSuchGroup() {
    assertEquals(ErrorCode.NO_SUCH_GROUP, refusal(GroupRules.joined(DAVE, DAVE, MISSING, MAX), Optional.empty()));
    assertEquals(ErrorCode.NO_SUCH_GROUP, refusal(GroupRules.joined(ALICE, GHOST, MISSING, MAX), Optional.empty()));
  }

  @Test
  void joinerOfAnEmptyOpenGroupBecomesAdmin() {
    Optional<GroupState> empty = group(Policy.OPEN, List.of(), List.of());
    GroupChange change = GroupRules.joined(DAVE, DAVE, MISSING, MAX).apply(empty);
    assertEquals(List.of(DAVE), change.after().members());
    assertEquals(List.of(DAVE), change.after().admins());
  }

  // ---- left ----

  @Test
  void leftRemovesTheSenderWhoStillGetsTheEvent() {
    GroupChange change = GroupRules.left(BOB).apply(INVITE_ABC);
    assertEquals(List.of(ALICE, CAROL), change.after().members());
    assertEquals(List.of(ALICE), change.after().admins());
    assertEquals(List.of(ALICE, CAROL, BOB), change.recipients());
  }

  @Test
  void lastAdminLeavingMakesTheLongestStandingMemberAdmin() {
    GroupChange change = GroupRules.left(ALICE).apply(INVITE_ABC);
    assertEquals(List.of(BOB, CAROL), change.after().members());
    assertEquals(List.of(BOB), change.after().admins());
    assertEquals(List.of(BOB, CAROL, ALICE), change.recipients());
  }

  @Test
  void adminLeavingWhileAnotherAdminRemainsPromotesNobody() {
    Optional<GroupState> twoAdmins = group(Policy.INVITE, List.of(ALICE, BOB, CAROL), List.of(ALICE, CAROL));
    GroupChange change = GroupRules.left(ALICE).apply(twoAdmins);
    assertEquals(List.of(CAROL), change.after().admins());
  }

  @Test
  void lastMemberLeavingLeavesAnEmptyGroup() {
    GroupChange change = GroupRules.left(ALICE).apply(group(Policy.INVITE, List.of(ALICE), List.of(ALICE)));
    assertEquals(List.of(), change.after().members());
    assertEquals(List.of(), change.after().admins());
    assertEquals(List.of(ALICE), change.recipients());
  }

  @Test
  void leftRefusals() {
    assertEquals(ErrorCode.NO_SUCH_GROUP, refusal(GroupRules.left(ALICE), Optional.empty()));
    assertEquals(ErrorCode.NOT_MEMBER, refusal(GroupRules.left(DAVE), INVITE_ABC));
  }

  // ---- removed ----

  @Test
  void adminRemovesAMemberWhoStillGetsTheEvent() {
    GroupChange change = GroupRules.removed(ALICE, BOB).apply(INVITE_ABC);
    assertEquals(List.of(ALICE, CAROL), change.after().members());
    assertEquals(List.of(ALICE), change.after().admins());
    assertEquals(List.of(ALICE, CAROL, BOB), change.recipients());
  }

  @Test
  void adminRemovesAnotherAdmin() {
    Optional<GroupState> twoAdmins = group(Policy.INVITE, List.of(ALICE, BOB, CAROL), List.of(CAROL, ALICE));
    GroupChange change = GroupRules.removed(ALICE, CAROL).apply(twoAdmins);
    assertEquals(List.of(ALICE, BOB), change.after().members());
    assertEquals(List.of(ALICE), change.after().admins());
  }

  @Test
  void removedRefusalsInTheSpecsOrder() {
    assertEquals(ErrorCode.NO_SUCH_GROUP, refusal(GroupRules.removed(ALICE, BOB), Optional.empty()));
    assertEquals(ErrorCode.NOT_MEMBER, refusal(GroupRules.removed(DAVE, BOB), INVITE_ABC));
    assertEquals(ErrorCode.NOT_MEMBER, refusal(GroupRules.removed(DAVE, DAVE), INVITE_ABC));
    assertEquals(ErrorCode.FORBIDDEN, refusal(GroupRules.removed(BOB, CAROL), INVITE_ABC));
    assertEquals(ErrorCode.FORBIDDEN, refusal(GroupRules.removed(BOB, DAVE), INVITE_ABC),
        "forbidden comes before bad_field");
    assertEquals(ErrorCode.FORBIDDEN, refusal(GroupRules.removed(BOB, BOB), INVITE_ABC));
    assertEquals(ErrorCode.BAD_FIELD, refusal(GroupRules.removed(ALICE, ALICE), INVITE_ABC), "removing oneself");
    assertEquals(ErrorCode.BAD_FIELD, refusal(GroupRules.removed(ALICE, DAVE), INVITE_ABC), "not a member");
  }

  // ---- common ----

  @Test
  void rulesKeepIdNamePolicyAndLeaveTheSeqToTheLedger() {
    for (GroupRule rule : List.of(GroupRules.left(BOB), GroupRules.removed(ALICE, BOB),
        GroupRules.joined(ALICE, DAVE, MISSING, MAX))) {
      GroupState after = rule.apply(INVITE_ABC).after();
      assertEquals(ID, after.groupId());
      assertEquals(Optional.of("G"), after.name());
      assertEquals(Policy.INVITE, after.policy());
      assertEquals(5, after.lastSeq());
    }
  }

  @Test
  void recipientsAreEachOnce() {
    for (GroupRule rule : List.of(GroupRules.left(BOB), GroupRules.removed(ALICE, BOB),
        GroupRules.joined(ALICE, DAVE, MISSING, MAX), GroupRules.joined(DAVE, DAVE, MISSING, MAX))) {
      List<Address> recipients = rule.apply(OPEN_ABC).recipients();
      assertEquals(Set.copyOf(recipients).size(), recipients.size());
    }
  }

  @Test
  void aGroupCannotGrowPastItsLimit() {
    assertEquals(ErrorCode.FORBIDDEN, refusal(GroupRules.created(ID, ALICE,
        creation(List.of(BOB, CAROL), Policy.OPEN), MISSING, 2), Optional.empty()), "three members asked for, two allowed");
    GroupChange two = GroupRules.created(ID, ALICE, creation(List.of(BOB), Policy.OPEN), MISSING, 2)
        .apply(Optional.empty());
    assertEquals(List.of(ALICE, BOB), two.after().members());
    assertEquals(ErrorCode.FORBIDDEN, refusal(GroupRules.joined(DAVE, DAVE, MISSING, 2), Optional.of(two.after())),
        "joining a full group");
    assertEquals(ErrorCode.FORBIDDEN, refusal(GroupRules.joined(ALICE, DAVE, MISSING, 2), Optional.of(two.after())),
        "an admin adding to a full group");
    assertEquals(List.of(ALICE, BOB, DAVE),
        GroupRules.joined(DAVE, DAVE, MISSING, 3).apply(Optional.of(two.after())).after().members());
  }
}
