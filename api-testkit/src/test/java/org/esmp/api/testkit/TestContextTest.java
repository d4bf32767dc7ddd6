package org.esmp.api.testkit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.esmp.api.Address;
import org.esmp.api.ConflictException;
import org.esmp.api.DuplicateException;
import org.esmp.api.Reply;
import org.esmp.api.Writes;
import org.esmp.api.json.JsonObject;
import org.esmp.api.spi.Storage;
import org.junit.jupiter.api.Test;

class TestContextTest {

  private static final Address ALICE = Address.parse("alice#example.com");
  private static final Address BOB = Address.parse("bob#example.com");

  private final TestContext context = TestContext.builder("notes").build();

  private static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static Throwable failure(CompletionStage<?> stage) {
    return assertThrows(ExecutionException.class, () -> await(stage)).getCause();
  }

  @Test
  void aPluginUsesItsOwnSpacesOnly() throws Exception {
    await(context.store().commit(Writes.builder().put("notes", "a", "1".getBytes(UTF_8))
        .put("notes.archive", "b", "2".getBytes(UTF_8)).build()));
    assertEquals("1", new String(context.store().get("notes", "a").orElseThrow(), UTF_8));
    assertEquals(List.of("b"), context.store().scan("notes.archive", "", "~", 10).stream().map(s -> s.key()).toList());
    assertThrows(IllegalArgumentException.class, () -> context.store().get("group-threads.groups", "g"));
    assertThrows(IllegalArgumentException.class, () -> context.store().get("notesx", "a"));
    assertInstanceOf(IllegalArgumentException.class,
        failure(context.store().commit(Writes.builder().put("other", "k", new byte[1]).build())));
  }

  @Test
  void aCommitForARequestRecordsItOnceAndASecondCopyIsADuplicate() throws Exception {
    context.register(BOB);
    TestRequest first = TestRequest.builder("note", ALICE).to(BOB).build();
    Reply ack = Reply.ack(JsonObject.builder().put("n", 1).build());
    await(context.mailboxes().deliver(first, List.of(BOB), ack));
    assertTrue(first.recorded());
    assertEquals(Optional.of(ack.fields()), context.storage().acceptedAnswer(first.message().id()));

    TestRequest copy = TestRequest.builder("note", ALICE).to(BOB).id(first.message().id()).build();
    DuplicateException duplicate = assertInstanceOf(DuplicateException.class,
        failure(context.mailboxes().deliver(copy, List.of(BOB), Reply.ack())));
    assertEquals(ack.fields(), duplicate.answer());
    assertEquals(1, context.storage().mailbox(BOB).size(), "stored once");
    assertEquals(1, context.pushed().size(), "pushed once");
  }

  @Test
  void aSessionTypeIsNeverRecorded() throws Exception {
    TestRequest query = TestRequest.builder("notes_list", ALICE).sessionType().build();
    await(context.store().commit(query, Writes.builder().put("notes", "seen", new byte[1]).build(), Reply.ack()));
    assertFalse(query.recorded());
    assertEquals(Optional.empty(), context.storage().acceptedAnswer(query.message().id()));
  }

  @Test
  void aConditionThatNoLongerHoldsIsAConflict() throws Exception {
    await(context.store().commit(Writes.builder().expectAbsent("notes", "n").put("notes", "n", "1".getBytes(UTF_8))
        .build()));
    assertInstanceOf(ConflictException.class, failure(context.store().commit(
        Writes.builder().expectAbsent("notes", "n").put("notes", "n", "2".getBytes(UTF_8)).build())));
    assertInstanceOf(ConflictException.class, failure(context.store().commit(
        Writes.builder().expect("notes", "n", "0".getBytes(UTF_8)).put("notes", "n", "2".getBytes(UTF_8)).build())));
    await(context.store().commit(
        Writes.builder().expect("notes", "n", "1".getBytes(UTF_8)).put("notes", "n", "2".getBytes(UTF_8)).build()));
    assertEquals("2", new String(context.store().get("notes", "n").orElseThrow(), UTF_8));
    assertEquals(2, context.storage().conflicts());
  }

  @Test
  void addressesExistOnceRegisteredAndTheStorageIsNeverHandedOut() {
    assertFalse(context.hasMailbox(ALICE));
    context.register(ALICE);
    assertTrue(context.hasMailbox(ALICE));
    assertFalse(context.hasMailbox(Address.parse("alice#other.org")), "not a domain served here");
    TestContext withStorage = TestContext.builder("notes").extension(new InMemoryStorage()).build();
    assertEquals(List.of(), withStorage.extensions(Storage.class));
  }
}
