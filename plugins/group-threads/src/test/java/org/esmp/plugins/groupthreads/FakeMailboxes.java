package org.esmp.plugins.groupthreads;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import org.esmp.api.Address;
import org.esmp.api.Mailboxes;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.esmp.api.StorageChange;

/** {@link Mailboxes} over a {@link FakeStorage}: commits go straight to it; live deliveries are recorded. */
final class FakeMailboxes implements Mailboxes {

  /** One {@link #deliverLive} call. */
  record Live(Request request, List<Address> recipients) {}

  private final FakeStorage storage;
  final List<Live> live = new CopyOnWriteArrayList<>();

  FakeMailboxes(FakeStorage storage) {
    this.storage = storage;
  }

  @Override
  public CompletionStage<Reply> deliver(Request request, Collection<Address> recipients, Reply ack) {
    throw new UnsupportedOperationException("group threads commit their own changes");
  }

  @Override
  public CompletionStage<List<Long>> commit(StorageChange change) {
    return storage.commit(change);
  }

  @Override
  public void deliverLive(Request request, Collection<Address> recipients) {
    live.add(new Live(request, List.copyOf(recipients)));
  }
}
