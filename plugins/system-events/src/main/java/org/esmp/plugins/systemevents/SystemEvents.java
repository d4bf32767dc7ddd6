package org.esmp.plugins.systemevents;

import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.esmp.api.Address;
import org.esmp.api.ErrorCode;
import org.esmp.api.MessageHandler;
import org.esmp.api.RejectedException;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.esmp.api.ServerContext;
import org.esmp.api.group.GroupLedger;
import org.esmp.api.group.GroupRule;
import org.esmp.api.json.JsonValue;
import org.pf4j.Extension;

/**
 * The system messages {@code group_created}, {@code joined}, {@code left} and {@code removed}
 * (ESMP/1 section 6). Each is checked for its {@code group_id} and body form here, then appended to
 * its group's thread through the {@link GroupLedger} (the group-threads plugin) with the rule of
 * {@link GroupRules}, which the ledger applies in thread order. The answer is the ledger's:
 * {@code {"type":"ack",…,"seq":N}} once durable, or the rule's refusal.
 *
 * <p>Without a ledger installed the types are answered {@code unsupported_type}. The ledger is
 * looked up for each message, since plugins start in any order. Thread-safe and stateless;
 * {@link #handle} never blocks.
 */
@Extension
public class SystemEvents implements MessageHandler {

  private final ServerContext context;

  public SystemEvents(ServerContext context) {
    this.context = context;
  }

  @Override
  public Set<String> types() {
    return Set.of("group_created", "joined", "left", "removed");
  }

  @Override
  public CompletionStage<Reply> handle(Request request) {
    GroupLedger ledger = context.extensions(GroupLedger.class).stream().findFirst().orElseThrow(
        () -> new RejectedException(ErrorCode.UNSUPPORTED_TYPE, "no group-threads plugin installed"));
    String type = request.message().type();
    Address sender = request.sender().orElseThrow(() -> new IllegalStateException(type + " without a sender address"));
    String groupId = request.message().groupId().orElseThrow(
        () -> new RejectedException(ErrorCode.BAD_FIELD, type + " needs a group_id"));
    JsonValue body = request.message().body();
    GroupRule rule = switch (type) {
      case "group_created" -> GroupRules.created(groupId, sender, EventBodies.creation(body), this::missing,
          context.maxGroupMembers());
      case "joined" -> GroupRules.joined(sender, EventBodies.optionalMember(body).orElse(sender), this::missing,
          context.maxGroupMembers());
      case "left" -> GroupRules.left(sender);
      case "removed" -> GroupRules.removed(sender, EventBodies.requiredMember(body));
      default -> throw new IllegalArgumentException("not a type of this handler: " + type);
    };
    return ledger.append(request, rule);
  }

  /** Whether {@code address} is of a domain this server serves but does not exist. */
  private boolean missing(Address address) {
    if (!context.domains().contains(address.domain())) {
      return false; // another server's: kept as a member, though federation is not implemented
    }
    return !context.hasMailbox(address);
  }
}
