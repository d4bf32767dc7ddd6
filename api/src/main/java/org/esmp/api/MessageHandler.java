package org.esmp.api;

import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.pf4j.ExtensionPoint;

/**
 * Declares message types and handles every verified message of them: session types such as
 * {@code lookup}, system types such as {@code group_created}, or a plugin's own command types.
 * (A content type, delivered to mailboxes like {@code text}, is declared with {@link ContentType}.)
 *
 * <p><b>When it is called.</b> The server creates one instance per plugin start and reads
 * {@link #types()} once. It calls {@link #handle} only for a message that passed every check of
 * ESMP/1 section 3 up to the type: I-JSON, fields, signature, duplicates, {@code ts}, and a sender
 * key bound to an address. A type declared twice is refused at load time.
 *
 * <p><b>Threads.</b> {@code handle} runs on one of the plugin's own threads (never a network I/O
 * thread nor a server worker), possibly on several threads at once for different connections; for
 * one connection it is called in the order the messages arrived: the connection's next message is
 * handed over only once {@code handle} has returned. It must not block for long: do slow work
 * (disk, network) asynchronously and complete the returned stage later. Answers still go out in
 * arrival order.
 *
 * <p><b>Failures.</b> {@code handle} must return within the plugin call timeout
 * ({@code plugin_timeout_seconds}, 5 s by default) and its stage complete within the answer timeout
 * ({@code plugin_answer_timeout_seconds}, 60 s). An exception other than {@link RejectedException},
 * a {@code null} stage or answer, a malformed answer, or a timeout is answered {@code internal} for
 * that message only; on a timeout the thread is interrupted and a later answer is ignored.
 */
public interface MessageHandler extends ExtensionPoint {

  /** The types this handler declares, each 1–64 characters of {@code [a-z0-9_.-]}. */
  Set<String> types();

  /**
   * Handles one message.
   *
   * @return the answer; complete it exceptionally with {@link RejectedException} (or throw it) to
   *     refuse the message with a protocol error. Any other failure is answered {@code internal}.
   */
  CompletionStage<Reply> handle(Request request);
}
