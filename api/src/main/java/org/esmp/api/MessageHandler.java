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
 * <p><b>Duplicates.</b> For a type that is not a {@linkplain #sessionTypes() session type}, the
 * server has checked that the message was not accepted before, and that no other copy of it is
 * being handled on this server: a resend is answered by the server with the first answer and
 * {@code "duplicate":true}, and never reaches {@code handle}. When {@code handle} answers
 * {@code ack}, the server records the message as accepted with that answer: in the commit of the
 * handler's effects when it commits through {@link Store#commit(Request, Writes, Reply)} (so that
 * effects and record are durable together), else in a commit of its own before the {@code ack}
 * is sent. A copy handled at the same time on another path (another server of a cluster) makes
 * that commit fail with {@link DuplicateException}; the server then answers as for a resend.
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
   * Which of {@link #types()} are session types (ESMP/1 sections 2.2 and 7): processed every time,
   * never answered as duplicates, {@code ts} optional; queries such as {@code history}. Every
   * other type is deduplicated: the server answers a resend of an accepted message itself, and
   * requires {@code ts}. Read once, with {@link #types()}; none by default.
   */
  default Set<String> sessionTypes() {
    return Set.of();
  }

  /**
   * Handles one message.
   *
   * @return the answer; complete it exceptionally with {@link RejectedException} (or throw it) to
   *     refuse the message with a protocol error. Any other failure is answered {@code internal}.
   */
  CompletionStage<Reply> handle(Request request);
}
