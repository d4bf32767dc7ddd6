package org.esmp.plugins.systemevents;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.esmp.api.Address;
import org.esmp.api.ErrorCode;
import org.esmp.api.RejectedException;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.esmp.api.group.GroupChange;
import org.esmp.api.group.GroupLedger;
import org.esmp.api.group.GroupRule;
import org.esmp.api.group.GroupState;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonValue;
import org.esmp.api.testkit.TestContext;
import org.esmp.api.testkit.TestRequest;
import org.junit.jupiter.api.Test;

class SystemEventsTest {

  private static final Address ALICE = Address.parse("alice#example.com");
  private static final Address BOB = Address.parse("bob#example.com");
  private static final Address GHOST = Address.parse("ghost#example.com");
  private static final Address REMOTE = Address.parse("zed#other.org");

  private final FakeLedger ledger = new FakeLedger();
  private final SystemEvents events = new SystemEvents(context(ledger));

  /** Serves example.com, where alice and bob exist; offers {@code ledgers}. */
  private static TestContext context(GroupLedger... ledgers) {
    TestContext.Builder builder = TestContext.builder("system-events");
    for (GroupLedger l : ledgers) {
      builder.extension(l);
    }
    TestContext context = builder.build();
    context.register(ALICE);
    context.register(BOB);
    return context;
  }

  @Test
  void declaresTheFourSystemTypes() {
    assertEquals(Set.of("group_created", "joined", "left", "removed"), events.types());
  }

  @Test
  void withoutALedgerTheTypesAreUnsupported() {
    SystemEvents alone = new SystemEvents(context());
    assertEquals(ErrorCode.UNSUPPORTED_TYPE, code(() -> alone.handle(request("left", ALICE, "g", JsonObject.empty()))));
  }

  @Test
  void everyEventNeedsAGroupId() {
    for (String type : List.of("group_created", "joined", "left", "removed")) {
      JsonObject body = JsonObject.builder().put("member", "bob#example.com").build();
      assertEquals(ErrorCode.BAD_FIELD, code(() -> events.handle(request(type, ALICE, null, body))), type);
    }
    assertNull(ledger.request, "nothing reaches the ledger");
  }

  @Test
  void createsThroughTheLedgerAndAnswersItsAck() throws Exception {
    Request created = request("group_created", ALICE, "g", JsonObject.builder()
        .put("name", "Lunch")
        .put("members", JsonArray.ofStrings(List.of("bob#example.com", "zed#other.org")))
        .build());
    Reply ack = events.handle(created).toCompletableFuture().get(5, TimeUnit.SECONDS);
    assertEquals(JsonObject.builder().put("seq", 1).build(), ack.fields());
    assertSame(created, ledger.request);
    GroupState group = ledger.state.orElseThrow();
    assertEquals(List.of(ALICE, BOB, REMOTE), group.members());
    assertEquals(Optional.of("Lunch"), group.name());
  }

  @Test
  void checksThatLocalAddressesExist() {
    JsonObject ghost = JsonObject.builder().put("members", JsonArray.ofStrings(List.of("ghost#example.com"))).build();
    assertEquals(ErrorCode.UNKNOWN_RECIPIENT, code(() -> events.handle(request("group_created", ALICE, "g", ghost))));
    assertEquals(Optional.empty(), ledger.state, "no group");
    ledger.state = Optional.of(new GroupState("g", Optional.empty(), GroupState.Policy.INVITE, List.of(ALICE),
        List.of(ALICE), 1));
    JsonObject joinGhost = JsonObject.builder().put("member", GHOST.toString()).build();
    assertEquals(ErrorCode.UNKNOWN_RECIPIENT, code(() -> events.handle(request("joined", ALICE, "g", joinGhost))));
  }

  @Test
  void joinedWithoutMemberIsTheSender() throws Exception {
    ledger.state = Optional.of(new GroupState("g", Optional.empty(), GroupState.Policy.OPEN, List.of(ALICE),
        List.of(ALICE), 3));
    events.handle(request("joined", BOB, "g", JsonObject.empty())).toCompletableFuture().get(5, TimeUnit.SECONDS);
    assertEquals(List.of(ALICE, BOB), ledger.state.orElseThrow().members());
  }

  @Test
  void leftAndRemovedGoThroughTheLedger() throws Exception {
    ledger.state = Optional.of(new GroupState("g", Optional.empty(), GroupState.Policy.INVITE, List.of(ALICE, BOB, REMOTE),
        List.of(ALICE), 3));
    events.handle(request("removed", ALICE, "g", JsonObject.builder().put("member", "zed#other.org").build()))
        .toCompletableFuture().get(5, TimeUnit.SECONDS);
    assertEquals(List.of(ALICE, BOB), ledger.state.orElseThrow().members());
    assertEquals(List.of(ALICE, BOB, REMOTE), ledger.recipients);
    events.handle(request("left", ALICE, "g", JsonObject.empty())).toCompletableFuture().get(5, TimeUnit.SECONDS);
    assertEquals(List.of(BOB), ledger.state.orElseThrow().admins());
  }

  @Test
  void bodyFormsAreCheckedBeforeTheGroup() {
    assertEquals(ErrorCode.BAD_FIELD, code(() -> events.handle(request("removed", ALICE, "nope", JsonObject.empty()))));
    assertEquals(ErrorCode.NO_SUCH_GROUP, code(() -> events.handle(request("removed", ALICE, "nope",
        JsonObject.builder().put("member", "bob#example.com").build()))));
  }

  // ---- fixtures ----

  private static ErrorCode code(Supplier<CompletionStage<Reply>> call) {
    Throwable failure;
    try {
      CompletionStage<Reply> stage = call.get();
      failure = assertThrows(ExecutionException.class, () -> stage.toCompletableFuture().get(5, TimeUnit.SECONDS))
          .getCause();
    } catch (RejectedException e) {
      failure = e;
    }
    return assertInstanceOf(RejectedException.class, failure).code();
  }

  private static Request request(String type, Address sender, String groupId, JsonValue body) {
    TestRequest.Builder request = TestRequest.builder(type, sender).body(body);
    if (groupId != null) {
      request.group(groupId);
    }
    return request.build();
  }

  /** A ledger of one group, applying rules at once. */
  private static final class FakeLedger implements GroupLedger {
    Optional<GroupState> state = Optional.empty();
    Request request;
    List<Address> recipients;

    @Override
    public Optional<GroupState> group(String groupId) {
      return state;
    }

    @Override
    public CompletionStage<Reply> append(Request request, GroupRule rule) {
      this.request = request;
      try {
        GroupChange change = rule.apply(state);
        long seq = state.map(GroupState::lastSeq).orElse(0L) + 1;
        GroupState after = change.after();
        state = Optional.of(new GroupState(after.groupId(), after.name(), after.policy(), after.members(), after.admins(), seq));
        recipients = change.recipients();
        return CompletableFuture.completedFuture(Reply.ack(JsonObject.builder().put("seq", seq).build()));
      } catch (RejectedException e) {
        return CompletableFuture.failedFuture(e);
      }
    }
  }
}
