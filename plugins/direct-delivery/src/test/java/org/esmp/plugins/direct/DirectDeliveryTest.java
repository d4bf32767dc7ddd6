package org.esmp.plugins.direct;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.esmp.api.Address;
import org.esmp.api.DuplicateException;
import org.esmp.api.ErrorCode;
import org.esmp.api.RejectedException;
import org.esmp.api.Reply;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;
import org.esmp.api.testkit.InMemoryStorage;
import org.esmp.api.testkit.TestContext;
import org.esmp.api.testkit.TestFederation;
import org.esmp.api.testkit.TestRequest;
import org.junit.jupiter.api.Test;

class DirectDeliveryTest {

  private static final Address ALICE = Address.parse("alice#example.com");
  private static final Address BOB = Address.parse("bob#example.com");
  private static final Address CAROL = Address.parse("carol#example.com"); // served here, does not exist
  private static final Address DAVE = Address.parse("dave#other.org"); // another server's

  private final TestContext context = TestContext.builder("direct-delivery").maxRecipients(3).build();
  private final DirectDelivery delivery = new DirectDelivery(context);

  private static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static TestRequest.Builder text(Address... to) {
    return TestRequest.builder("text", ALICE).to(to).body(JsonObject.builder().put("text", "hi").build());
  }

  @Test
  void storesTheMessageOnceInEachExistingRecipientsMailboxAndListsTheOthers() throws Exception {
    context.register(ALICE);
    context.register(BOB);
    TestRequest request = text(BOB, CAROL, BOB).cc(DAVE).build();
    Reply ack = await(delivery.deliver(request, false));
    assertEquals(JsonObject.builder().put("rejected", JsonObject.builder()
        .put(CAROL.toString(), "unknown_recipient").put(DAVE.toString(), "unknown_recipient").build()).build(),
        ack.fields());
    assertEquals(1, context.storage().mailbox(BOB).size(), "listed twice, delivered once");
    assertEquals(request.message().id(), context.storage().mailbox(BOB).get(0).id());
    assertEquals(List.of(), context.storage().mailbox(CAROL));
    assertTrue(request.recorded(), "recorded as accepted in the same commit");
    assertEquals(1, context.pushed().size());
  }

  @Test
  void withFederationAnotherDomainsAddressIsRelayedThroughItsMailboxHere() throws Exception {
    InMemoryStorage storage = new InMemoryStorage();
    TestContext federated = TestContext.builder("direct-delivery").domains("example.com").storage(storage)
        .federation(TestFederation.builder(storage).build()).build();
    federated.register(BOB);
    TestRequest request = text(BOB, CAROL).cc(DAVE).build();
    Reply ack = await(new DirectDelivery(federated).deliver(request, false));
    assertEquals(JsonObject.builder().put("rejected", JsonObject.builder().put(CAROL.toString(), "unknown_recipient").build())
        .put("relayed", JsonArray.ofStrings(List.of(DAVE.toString()))).build(), ack.fields());
    assertEquals(request.message().id(), storage.mailbox(DAVE).get(0).id(), "kept for the relay, in the same commit");
    assertEquals(request.message().id(), storage.mailbox(BOB).get(0).id());

    TestRequest onlyRemote = text(DAVE).build();
    assertEquals(JsonObject.builder().put("relayed", JsonArray.ofStrings(List.of(DAVE.toString()))).build(),
        await(new DirectDelivery(federated).deliver(onlyRemote, false)).fields(), "no local recipient is needed");
  }

  @Test
  void refusesWhenNoRecipientExistsOrThereAreTooMany() {
    RejectedException none = assertThrows(RejectedException.class, () -> delivery.deliver(text(CAROL).build(), false));
    assertEquals(ErrorCode.UNKNOWN_RECIPIENT, none.code());
    RejectedException many = assertThrows(RejectedException.class, () -> delivery.deliver(
        text(BOB, CAROL, DAVE).cc(Address.parse("erin#example.com")).build(), false));
    assertEquals(ErrorCode.TOO_MANY_RECIPIENTS, many.code());
  }

  @Test
  void anEphemeralMessageIsPushedLiveAndStoresNothing() throws Exception {
    context.register(BOB);
    TestRequest typing = text(BOB).build();
    assertTrue(await(delivery.deliver(typing, true)).isAck());
    assertEquals(1, context.live().size());
    assertEquals(List.of(BOB), context.live().get(0).recipients());
    assertEquals(List.of(), context.storage().mailbox(BOB));
    assertEquals(0, context.storage().commits() - 1, "only the registration was committed");
  }

  /**
   * The same message delivered at once by two instances on one storage (two servers of a
   * cluster): the storage's insert-if-absent of the accepted id lets one through; the other fails
   * with the first answer, for the server to answer as a duplicate. Stored once.
   */
  @Test
  void theSameMessageOnTwoPathsIsStoredOnceAndTheOtherPathGetsADuplicate() throws Exception {
    ExecutorService completer = Executors.newSingleThreadExecutor();
    try {
      InMemoryStorage shared = new InMemoryStorage().completingOn(completer);
      TestContext one = TestContext.builder("direct-delivery").storage(shared).build();
      TestContext two = TestContext.builder("direct-delivery").storage(shared).build();
      one.register(BOB);
      TestRequest first = text(BOB).build();
      TestRequest copy = text(BOB).id(first.message().id()).build();
      List<CompletableFuture<Reply>> answers = new ArrayList<>();
      answers.add(new DirectDelivery(one).deliver(first, false).toCompletableFuture());
      answers.add(new DirectDelivery(two).deliver(copy, false).toCompletableFuture());
      assertEquals(Reply.ack().fields(), answers.get(0).get(10, TimeUnit.SECONDS).fields());
      ExecutionException lost = assertThrows(ExecutionException.class, () -> answers.get(1).get(10, TimeUnit.SECONDS));
      assertEquals(Reply.ack().fields(), assertInstanceOf(DuplicateException.class, lost.getCause()).answer());
      assertEquals(1, shared.mailbox(BOB).size());
    } finally {
      completer.shutdownNow();
    }
  }
}
