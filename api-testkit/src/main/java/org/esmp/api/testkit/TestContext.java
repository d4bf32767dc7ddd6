package org.esmp.api.testkit;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import org.esmp.api.Address;
import org.esmp.api.Ed25519Key;
import org.esmp.api.JsonCodec;
import org.esmp.api.MailboxEntry;
import org.esmp.api.Mailboxes;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.esmp.api.ServerContext;
import org.esmp.api.SignedMessage;
import org.esmp.api.Store;
import org.esmp.api.Stored;
import org.esmp.api.Writes;
import org.esmp.api.federation.Federation;
import org.esmp.api.spi.Storage;
import org.esmp.api.spi.StorageChange;
import org.pf4j.ExtensionPoint;

/**
 * A {@link ServerContext} for one plugin's unit tests, over an {@link InMemoryStorage}, behaving as
 * the server's does where a plugin can tell:
 *
 * <ul>
 *   <li>{@link #store()} allows the plugin's own spaces only, and a commit for a
 *       {@link TestRequest} records it as accepted when the server would (its type deduplicated,
 *       the answer an {@code ack}, not recorded yet), so a duplicate fails with
 *       {@link org.esmp.api.DuplicateException} and a lost race with
 *       {@link org.esmp.api.ConflictException};
 *   <li>{@link #mailboxes()} delivers through the same commit, and keeps what is pushed, live or
 *       committed, for assertions ({@link #pushed()}, {@link #live()});
 *   <li>{@link #hasMailbox} is true for addresses {@link #register registered} in a served domain.
 * </ul>
 *
 * <p>Several contexts may share one storage: several plugins, or two instances of one plugin
 * racing as two servers of a cluster would. Thread-safe.
 */
public final class TestContext implements ServerContext {

  /** One entry pushed to the connections following {@code address}'s mailbox, after its commit. */
  public record Pushed(Address address, MailboxEntry entry) {}

  /** One {@link Mailboxes#deliverLive} call. */
  public record Live(Request request, List<Address> recipients) {}

  private final String pluginId;
  private final String domain;
  private final Set<String> domains;
  private final Path dataDirectory;
  private final InMemoryStorage storage;
  private final List<Object> extensions;
  private final JsonCodec json;
  private final int maxRecipients;
  private final int maxGroupMembers;
  private final long acceptedAt;
  private final Store store = new TestStore();
  private final Mailboxes mailboxes = new TestMailboxes();
  private final Federation federation;
  private final Map<String, String> settings;
  private final List<Pushed> pushed = new CopyOnWriteArrayList<>();
  private final List<Live> live = new CopyOnWriteArrayList<>();

  private TestContext(Builder b) {
    this.pluginId = b.pluginId;
    this.domain = b.domains.get(0);
    this.domains = Set.copyOf(b.domains);
    this.dataDirectory = b.dataDirectory;
    this.storage = b.storage;
    this.extensions = List.copyOf(b.extensions);
    this.json = b.json;
    this.maxRecipients = b.maxRecipients;
    this.maxGroupMembers = b.maxGroupMembers;
    this.acceptedAt = b.acceptedAt;
    this.federation = b.federation;
    this.settings = Map.copyOf(b.settings);
  }

  /** A context for the plugin {@code pluginId}, serving {@code example.com}, over a new storage. */
  public static Builder builder(String pluginId) {
    return new Builder(pluginId);
  }

  /** The storage behind this context; for assertions and for contexts that share it. */
  public InMemoryStorage storage() {
    return storage;
  }

  /** Makes {@code address} exist (bound to a key made from its name); returns it. */
  public Address register(Address address) {
    byte[] raw = new byte[Ed25519Key.LENGTH];
    byte[] name = address.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    for (int i = 0; i < name.length; i++) {
      raw[i % raw.length] ^= name[i];
    }
    raw[raw.length - 1] ^= 0x55; // so that no name makes the all-zero key of TestRequest
    storage.commit(StorageChange.builder().bindKey(address, Ed25519Key.of(raw)).build()).toCompletableFuture().join();
    return address;
  }

  /** What was pushed after commits, in order. */
  public List<Pushed> pushed() {
    return List.copyOf(pushed);
  }

  /** The {@link Mailboxes#deliverLive} calls, in order. */
  public List<Live> live() {
    return List.copyOf(live);
  }

  @Override
  public String domain() {
    return domain;
  }

  @Override
  public Set<String> domains() {
    return domains;
  }

  @Override
  public Path dataDirectory() {
    if (dataDirectory == null) {
      throw new IllegalStateException("no data directory: give one with TestContext.Builder.dataDirectory");
    }
    return dataDirectory;
  }

  @Override
  public Store store() {
    return store;
  }

  @Override
  public boolean hasMailbox(Address address) {
    return domains.contains(address.domain()) && !storage.keysOf(address).isEmpty();
  }

  @Override
  public Mailboxes mailboxes() {
    return mailboxes;
  }

  @Override
  public <T extends ExtensionPoint> List<T> extensions(Class<T> type) {
    return extensions.stream().filter(e -> !(e instanceof Storage)).filter(type::isInstance).map(type::cast).toList();
  }

  @Override
  public JsonCodec json() {
    return json;
  }

  @Override
  public int maxRecipients() {
    return maxRecipients;
  }

  @Override
  public int maxGroupMembers() {
    return maxGroupMembers;
  }

  /** True for an address of a domain not served here when a {@link Builder#federation} was given. */
  @Override
  public boolean relays(Address address) {
    return federation != null && !domains.contains(address.domain());
  }

  /** The settings given to {@link Builder#settings}; none by default. */
  @Override
  public Map<String, String> settings() {
    return settings;
  }

  /**
   * The federation given to {@link Builder#federation}.
   *
   * @throws UnsupportedOperationException when none was, as a server older than API 1.3 does
   */
  @Override
  public Federation federation() {
    if (federation == null) {
      throw new UnsupportedOperationException("no federation: give one with TestContext.Builder.federation");
    }
    return federation;
  }

  private CompletionStage<List<Long>> commit(Request request, Writes writes, Reply answer) {
    if (!(request instanceof TestRequest test)) {
      throw new IllegalArgumentException("not a request the server handed to a plugin: " + request);
    }
    StorageChange.Builder change = StorageChange.builder().writes(writes);
    boolean records = test.deduplicated() && !test.recorded() && answer != null && answer.isAck();
    if (records) {
      change.accept(test.message().id(), acceptedAt, answer.fields());
    }
    return commit(change.build()).thenApply(cursors -> {
      if (records) {
        test.markRecorded();
      }
      return cursors;
    });
  }

  private CompletionStage<List<Long>> commit(StorageChange change) {
    return storage.commit(change).thenApply(cursors -> {
      List<Writes.Append> appends = change.writes().appends();
      for (int i = 0; i < appends.size(); i++) {
        pushed.add(new Pushed(appends.get(i).address(), appends.get(i).entry().withCursor(cursors.get(i))));
      }
      return cursors;
    });
  }

  private void checkSpace(String space) {
    if (!space.equals(pluginId) && !(space.startsWith(pluginId + ".") && space.length() > pluginId.length() + 1)) {
      throw new IllegalArgumentException("plugin " + pluginId + " may use the spaces '" + pluginId + "' and '"
          + pluginId + ".*' only, not '" + space + "'");
    }
  }

  private void checkSpaces(Writes writes) {
    writes.expectations().forEach(e -> checkSpace(e.space()));
    writes.deletes().forEach(d -> checkSpace(d.space()));
    writes.puts().forEach(p -> checkSpace(p.space()));
    writes.keeps().forEach(k -> checkSpace(k.space()));
  }

  /** The plugin's store: its own spaces of the storage. */
  private final class TestStore implements Store {
    @Override
    public Optional<byte[]> get(String space, String key) {
      checkSpace(space);
      return storage.get(space, key);
    }

    @Override
    public List<Stored> scan(String space, String fromKey, String toKey, int limit) {
      checkSpace(space);
      return storage.scan(space, fromKey, toKey, limit);
    }

    @Override
    public Optional<MailboxEntry> entry(String space, String key) {
      checkSpace(space);
      return storage.entry(space, key);
    }

    @Override
    public List<MailboxEntry> entries(String space, String fromKey, String toKey, int limit) {
      checkSpace(space);
      return storage.entries(space, fromKey, toKey, limit);
    }

    @Override
    public CompletionStage<List<Long>> commit(Request request, Writes writes, Reply answer) {
      try {
        checkSpaces(writes);
        return TestContext.this.commit(request, writes, answer);
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(e);
      }
    }

    @Override
    public CompletionStage<List<Long>> commit(Writes writes) {
      try {
        checkSpaces(writes);
        return TestContext.this.commit(StorageChange.builder().writes(writes).build());
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(e);
      }
    }
  }

  /** Delivery through the same commit as the store; live deliveries kept. */
  private final class TestMailboxes implements Mailboxes {
    @Override
    public CompletionStage<Reply> deliver(Request request, Collection<Address> recipients, Reply ack) {
      SignedMessage message = request.message();
      Address from = request.sender().orElseThrow(() -> new IllegalArgumentException("no sender address"));
      MailboxEntry entry = MailboxEntry.direct(message.id(), from, request.receivedAt(), message.fields());
      Writes.Builder writes = Writes.builder();
      for (Address recipient : new LinkedHashSet<>(recipients)) {
        writes.append(recipient, entry);
      }
      try {
        return TestContext.this.commit(request, writes.build(), ack).thenApply(cursors -> ack);
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(e);
      }
    }

    @Override
    public void deliverLive(Request request, Collection<Address> recipients) {
      live.add(new Live(request, List.copyOf(new LinkedHashSet<>(recipients))));
    }
  }

  /** Builds a context. */
  public static final class Builder {
    private final String pluginId;
    private final List<String> domains = new ArrayList<>(List.of("example.com"));
    private Path dataDirectory;
    private InMemoryStorage storage = new InMemoryStorage();
    private final List<Object> extensions = new ArrayList<>();
    private JsonCodec json = new TestJsonCodec();
    private int maxRecipients = 100;
    private int maxGroupMembers = 1000;
    private long acceptedAt = 1_764_000_000_000L;
    private Federation federation;
    private Map<String, String> settings = Map.of();

    private Builder(String pluginId) {
      this.pluginId = Objects.requireNonNull(pluginId, "pluginId");
    }

    /** The domains served, the main one first (default {@code example.com}). */
    public Builder domains(String main, String... others) {
      domains.clear();
      domains.add(main);
      domains.addAll(List.of(others));
      return this;
    }

    public Builder dataDirectory(Path directory) {
      dataDirectory = directory;
      return this;
    }

    /** A storage shared with other contexts. */
    public Builder storage(InMemoryStorage shared) {
      storage = Objects.requireNonNull(shared, "storage");
      return this;
    }

    /** An extension of another plugin, for {@link ServerContext#extensions}. */
    public Builder extension(Object extension) {
      extensions.add(extension);
      return this;
    }

    public Builder json(JsonCodec codec) {
      json = Objects.requireNonNull(codec, "json");
      return this;
    }

    public Builder maxRecipients(int max) {
      maxRecipients = max;
      return this;
    }

    public Builder maxGroupMembers(int max) {
      maxGroupMembers = max;
      return this;
    }

    /** The server's federation services, such as a {@link TestFederation} (since 1.3). */
    /** The plugin's settings, as {@link ServerContext#settings()} gives them. */
    public Builder settings(Map<String, String> value) {
      settings = Map.copyOf(value);
      return this;
    }

    public Builder federation(Federation value) {
      federation = Objects.requireNonNull(value, "federation");
      return this;
    }

    public TestContext build() {
      return new TestContext(this);
    }
  }
}
