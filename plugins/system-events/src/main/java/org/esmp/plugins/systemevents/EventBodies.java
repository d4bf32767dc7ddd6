package org.esmp.plugins.systemevents;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.esmp.api.Address;
import org.esmp.api.ErrorCode;
import org.esmp.api.RejectedException;
import org.esmp.api.group.GroupState;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonNull;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonString;
import org.esmp.api.json.JsonValue;

/**
 * Reads the bodies of the system events, refusing a wrong form with {@code bad_field}. An optional
 * member given as JSON {@code null} counts as absent; members the protocol does not name are
 * ignored. Pure and stateless.
 */
final class EventBodies {

  private EventBodies() {}

  /** {@code group_created}: {@code {"name":S?,"members":[ADDRESS...]?,"policy":"invite"|"open"?}}. */
  static GroupRules.Creation creation(JsonValue body) {
    JsonObject object = object(body, "a group_created body is {\"name\":S?,\"members\":[ADDRESS...]?,\"policy\":P?}");
    Optional<String> name = Optional.empty();
    JsonValue nameValue = present(object, "name");
    if (nameValue != null) {
      if (!(nameValue instanceof JsonString s)) {
        throw new RejectedException(ErrorCode.BAD_FIELD, "name must be a string");
      }
      name = Optional.of(s.value());
    }
    List<Address> members = new ArrayList<>();
    JsonValue membersValue = present(object, "members");
    if (membersValue != null) {
      if (!(membersValue instanceof JsonArray array)) {
        throw new RejectedException(ErrorCode.BAD_FIELD, "members must be an array of addresses");
      }
      for (JsonValue item : array) {
        members.add(address(item, "members"));
      }
    }
    GroupState.Policy policy = GroupState.Policy.INVITE;
    JsonValue policyValue = present(object, "policy");
    if (policyValue != null) {
      String text = policyValue.asString();
      if ("open".equals(text)) {
        policy = GroupState.Policy.OPEN;
      } else if (!"invite".equals(text)) {
        throw new RejectedException(ErrorCode.BAD_FIELD, "policy must be \"invite\" or \"open\"");
      }
    }
    return new GroupRules.Creation(name, members, policy);
  }

  /** {@code joined}: {@code {"member":ADDRESS?}}; empty when the member is omitted (the sender joins). */
  static Optional<Address> optionalMember(JsonValue body) {
    JsonObject object = object(body, "a joined body is {\"member\":ADDRESS?}");
    JsonValue member = present(object, "member");
    return member == null ? Optional.empty() : Optional.of(address(member, "member"));
  }

  /** {@code removed}: {@code {"member":ADDRESS}}. */
  static Address requiredMember(JsonValue body) {
    JsonObject object = object(body, "a removed body is {\"member\":ADDRESS}");
    JsonValue member = present(object, "member");
    if (member == null) {
      throw new RejectedException(ErrorCode.BAD_FIELD, "removed needs a member");
    }
    return address(member, "member");
  }

  private static JsonObject object(JsonValue body, String form) {
    JsonObject object = body.asObject();
    if (object == null) {
      throw new RejectedException(ErrorCode.BAD_FIELD, form);
    }
    return object;
  }

  /** The member's value, or {@code null} when it is absent or JSON {@code null}. */
  private static JsonValue present(JsonObject object, String name) {
    JsonValue value = object.get(name);
    return value == JsonNull.INSTANCE ? null : value;
  }

  private static Address address(JsonValue value, String field) {
    String text = value.asString();
    if (text == null || !Address.isValid(text)) {
      throw new RejectedException(ErrorCode.BAD_FIELD, field + " must hold addresses, local#domain");
    }
    return Address.parse(text);
  }
}
