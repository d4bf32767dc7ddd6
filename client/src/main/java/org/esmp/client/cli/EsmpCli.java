package org.esmp.client.cli;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.esmp.client.Delivery;
import org.esmp.client.DeliveryListener;
import org.esmp.client.EsmpClient;
import org.esmp.client.Identity;
import org.esmp.client.InvalidMessageException;
import org.esmp.client.Jcs;
import org.esmp.client.ServerException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code esmp}, the command-line client. Global options come before the command:
 * {@code esmp --server HOST:PORT --identity FILE COMMAND ...}. Exit codes: 0 done, 1 failed (a
 * server error, a refused delivery, no connection, a timeout), 2 bad usage.
 */
@Command(name = "esmp", mixinStandardHelpOptions = true, versionProvider = EsmpCli.Version.class,
    description = "ESMP/1 command-line client: keys, messages, mailbox, groups.",
    subcommands = {EsmpCli.Keygen.class, EsmpCli.Register.class, EsmpCli.Send.class,
        EsmpCli.Listen.class, EsmpCli.Group.class, EsmpCli.Lookup.class,
        CommandLine.HelpCommand.class})
public final class EsmpCli implements Runnable {

  @Option(names = "--server", paramLabel = "HOST:PORT", defaultValue = "localhost:5888",
      description = "server to talk to (default: ${DEFAULT-VALUE})")
  String server;

  @Option(names = "--identity", paramLabel = "FILE",
      defaultValue = "${sys:user.home}/.esmp/identity.json",
      description = "identity file: key, address, cursor (default: ${DEFAULT-VALUE})")
  Path identity;

  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "which command? (see esmp --help)");
  }

  public static void main(String[] args) {
    System.exit(run(new PrintWriter(new OutputStreamWriter(System.out, UTF_8), true),
        new PrintWriter(new OutputStreamWriter(System.err, UTF_8), true), args));
  }

  /** Runs one command line with the given streams and returns the exit code. */
  public static int run(PrintWriter out, PrintWriter err, String... args) {
    CommandLine cli = new CommandLine(new EsmpCli());
    cli.setOut(out);
    cli.setErr(err);
    cli.setExecutionExceptionHandler((e, commandLine, parsed) -> {
      commandLine.getErr().println("esmp: " + describe(e));
      commandLine.getErr().flush();
      return 1;
    });
    int code = cli.execute(args);
    out.flush();
    err.flush();
    return code;
  }

  private static String describe(Exception e) {
    if (e instanceof ServerException s) {
      return "server error " + s.code() + ": " + s.getMessage().substring(s.code().length() + 2);
    }
    if (e instanceof FileAlreadyExistsException f) {
      return f.getFile() + " already exists; not overwriting an identity";
    }
    if (e instanceof NoSuchFileException f) {
      return "no identity file " + f.getFile() + " (create one with: esmp keygen ADDRESS)";
    }
    if (e instanceof java.net.ConnectException) {
      return "cannot connect: " + e.getMessage();
    }
    return e.getMessage() != null ? e.getMessage() : e.toString();
  }

  Identity loadIdentity() throws IOException {
    return Identity.load(identity);
  }

  EsmpClient connect(Identity me, boolean autoReconnect) throws IOException {
    String host = server;
    int port = EsmpClient.DEFAULT_PORT;
    int colon = server.lastIndexOf(':');
    if (colon >= 0 && server.indexOf(']', colon) < 0) {
      host = server.substring(0, colon);
      try {
        port = Integer.parseInt(server.substring(colon + 1));
      } catch (NumberFormatException e) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "--server: not HOST:PORT: " + server);
      }
    }
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    try {
      return EsmpClient.builder(me).server(host, port).autoReconnect(autoReconnect).connect();
    } catch (IOException e) {
      throw new IOException("cannot connect to " + server + ": " + e.getMessage(), e);
    }
  }

  /** {@code --json}, for commands that print. */
  static final class JsonOption {
    @Option(names = "--json", description = "print one JSON object per line")
    boolean json;
  }

  /** Base of the commands: output streams and the global options. */
  abstract static class Base implements Callable<Integer> {
    @Spec CommandSpec spec;

    abstract EsmpCli root();

    PrintWriter out() {
      return spec.commandLine().getOut();
    }

    PrintWriter err() {
      return spec.commandLine().getErr();
    }

    /** Bad addresses are a usage error (exit 2), found before connecting. */
    void checkAddresses(List<String> addresses) {
      for (String a : addresses) {
        if (!org.esmp.client.Addresses.isValid(a)) {
          throw new CommandLine.ParameterException(spec.commandLine(),
              "not an ESMP address (local#domain, lowercase): " + a);
        }
      }
    }

    void printJson(JsonNode node) {
      printJson(new String(Jcs.compact(node), UTF_8));
    }

    void printJson(String json) {
      out().println(json);
      out().flush();
    }
  }

  @Command(name = "keygen", description = "Create a new key for ADDRESS in the identity file (never overwrites one).")
  static final class Keygen extends Base {
    @ParentCommand EsmpCli root;
    @Mixin JsonOption json;
    @Parameters(paramLabel = "ADDRESS", description = "your address, e.g. alice#example.com")
    String address;

    @Override
    EsmpCli root() {
      return root;
    }

    @Override
    public Integer call() throws IOException {
      checkAddresses(List.of(address));
      Identity me = Identity.create(root.identity, address);
      if (json.json) {
        ObjectNode o = JsonOut.object();
        o.put("address", me.address());
        o.put("public_key", me.key().publicKeyBase64());
        o.put("identity", root.identity.toString());
        printJson(o);
      } else {
        out().println(me.address() + ": new key " + me.key().publicKeyBase64() + " saved in "
            + root.identity);
      }
      return 0;
    }
  }

  @Command(name = "register", description = "Register the identity's address with its key (on a server with open registration), or check that it is registered.")
  static final class Register extends Base {
    @ParentCommand EsmpCli root;
    @Mixin JsonOption json;

    @Override
    EsmpCli root() {
      return root;
    }

    @Override
    public Integer call() throws IOException {
      Identity me = root.loadIdentity();
      try (EsmpClient client = root.connect(me, false)) {
        boolean registered = client.auth();
        if (json.json) {
          ObjectNode o = JsonOut.object();
          o.put("address", me.address());
          o.put("registered", registered);
          printJson(o);
        } else {
          out().println(registered ? "registered " + me.address()
              : me.address() + " is already registered with this key");
        }
      }
      return 0;
    }
  }

  @Command(name = "send", description = "Send a text message.")
  static final class Send extends Base {
    @ParentCommand EsmpCli root;
    @Mixin JsonOption json;
    @Option(names = "--to", paramLabel = "ADDR", description = "recipient (repeatable)")
    List<String> to = new ArrayList<>();
    @Option(names = "--cc", paramLabel = "ADDR", description = "copy to (repeatable)")
    List<String> cc = new ArrayList<>();
    @Parameters(paramLabel = "TEXT", arity = "1..*", description = "the text (words are joined with spaces)")
    List<String> text;

    @Override
    EsmpCli root() {
      return root;
    }

    @Override
    public Integer call() throws IOException {
      if (to.isEmpty() && cc.isEmpty()) {
        throw new CommandLine.ParameterException(spec.commandLine(), "send needs --to or --cc");
      }
      checkAddresses(to);
      checkAddresses(cc);
      Identity me = root.loadIdentity();
      try (EsmpClient client = root.connect(me, false)) {
        EsmpClient.Ack ack = client.sendText(to, cc, String.join(" ", text));
        if (json.json) {
          printJson(ack.json());
        } else {
          List<String> accepted = new ArrayList<>();
          for (String a : to) {
            if (!ack.rejected().containsKey(a) && !accepted.contains(a)) {
              accepted.add(a);
            }
          }
          for (String a : cc) {
            if (!ack.rejected().containsKey(a) && !accepted.contains(a)) {
              accepted.add(a);
            }
          }
          out().println("sent to " + String.join(", ", accepted));
          ack.rejected().forEach((a, why) -> err().println("esmp: not delivered to " + a + ": " + why));
        }
      }
      return 0;
    }
  }

  @Command(name = "listen", description = {
      "Print what arrives in the mailbox, from the saved cursor on, saving the cursor as it goes.",
      "Runs until --count messages arrived or --timeout passed (or Ctrl-C)."})
  static final class Listen extends Base {
    @ParentCommand EsmpCli root;
    @Mixin JsonOption json;
    @Option(names = "--count", paramLabel = "N", description = "exit after N messages")
    Integer count;
    @Option(names = "--timeout", paramLabel = "SECONDS", description = "exit after this long (an error if --count was not reached)")
    Long timeout;

    @Override
    EsmpCli root() {
      return root;
    }

    @Override
    public Integer call() throws Exception {
      if (count != null && count < 1 || timeout != null && timeout < 0) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--count and --timeout must be positive");
      }
      Identity me = root.loadIdentity();
      CountDownLatch done = new CountDownLatch(1);
      AtomicInteger seen = new AtomicInteger();
      AtomicBoolean refused = new AtomicBoolean(); // or lost for good
      try (EsmpClient client = root.connect(me, true)) {
        client.auth();
        client.sync(new DeliveryListener() {
          @Override
          public void onDelivery(Delivery d) {
            if (done.getCount() == 0) {
              throw new IllegalStateException("finished"); // not handled: the cursor stays
            }
            if (json.json) {
              printJson(d.frame());
            } else {
              out().println(Describe.delivery(d));
              out().flush();
            }
            if (count != null && seen.incrementAndGet() >= count) {
              done.countDown();
            }
          }

          @Override
          public void onRefused(InvalidMessageException e) {
            if (done.getCount() == 0) {
              throw new IllegalStateException("finished");
            }
            err().println("esmp: " + e.getMessage());
            err().flush();
            refused.set(true);
            done.countDown();
          }

          @Override
          public void onClosed(Throwable cause) {
            if (done.getCount() != 0) { // not the close that follows --count
              err().println("esmp: connection closed"
                  + (cause != null && cause.getMessage() != null ? ": " + cause.getMessage() : ""));
              err().flush();
              refused.set(true);
              done.countDown();
            }
          }
        });
        boolean finished = timeout == null ? await(done) : done.await(timeout, TimeUnit.SECONDS);
        if (refused.get()) {
          return 1;
        }
        if (!finished && count != null) {
          err().println("esmp: timed out after " + timeout + " s with " + seen.get() + " of "
              + count + " messages");
          return 1;
        }
      }
      return 0;
    }

    private static boolean await(CountDownLatch done) throws InterruptedException {
      done.await();
      return true;
    }
  }

  @Command(name = "lookup", description = "Print the public keys of ADDR.")
  static final class Lookup extends Base {
    @ParentCommand EsmpCli root;
    @Mixin JsonOption json;
    @Parameters(paramLabel = "ADDR")
    String address;

    @Override
    EsmpCli root() {
      return root;
    }

    @Override
    public Integer call() throws IOException {
      checkAddresses(List.of(address));
      Identity me = root.loadIdentity();
      try (EsmpClient client = root.connect(me, false)) {
        List<String> keys = client.lookup(address);
        if (json.json) {
          ObjectNode o = JsonOut.object();
          o.put("address", address);
          keys.forEach(o.putArray("keys")::add);
          printJson(o);
        } else {
          keys.forEach(out()::println);
        }
        if (keys.isEmpty()) {
          err().println("esmp: no such address: " + address);
          return 1;
        }
      }
      return 0;
    }
  }

  @Command(name = "group", description = "Groups: create, add, remove, leave, post, history, info.",
      subcommands = {Group.Create.class, Group.Add.class, Group.Remove.class, Group.Leave.class,
          Group.Post.class, Group.History.class, Group.Info.class})
  static final class Group implements Runnable {
    @ParentCommand EsmpCli root;
    @Spec CommandSpec spec;

    @Override
    public void run() {
      throw new CommandLine.ParameterException(spec.commandLine(), "group: which command?");
    }

    abstract static class Sub extends Base {
      @ParentCommand Group group;
      @Mixin JsonOption json;

      @Override
      EsmpCli root() {
        return group.root;
      }

      @Override
      public Integer call() throws IOException {
        checkAddresses(addresses());
        Identity me = root().loadIdentity();
        try (EsmpClient client = root().connect(me, false)) {
          return run(client);
        }
      }

      abstract int run(EsmpClient client) throws IOException;

      /** The addresses on this command line, checked before connecting. */
      List<String> addresses() {
        return List.of();
      }

      void printAck(EsmpClient.Ack ack, String human) {
        if (json.json) {
          printJson(ack.json());
        } else {
          out().println(human + (ack.seq() != null ? " (#" + ack.seq() + ")" : ""));
        }
      }
    }

    @Command(name = "create", description = "Create a group and print its id.")
    static final class Create extends Sub {
      @Parameters(paramLabel = "NAME") String name;
      @Option(names = "--member", paramLabel = "ADDR", description = "a first member (repeatable)")
      List<String> members = new ArrayList<>();
      @Option(names = "--open", description = "anyone may join (default: members are added by an admin)")
      boolean open;

      @Override
      List<String> addresses() {
        return members;
      }

      @Override
      int run(EsmpClient client) throws IOException {
        String id = client.createGroup(name, members, open);
        if (json.json) {
          printJson(JsonOut.object().put("group_id", id));
        } else {
          out().println(id);
        }
        return 0;
      }
    }

    @Command(name = "add", description = "Add ADDR to GROUP (admins; anyone can add themselves to an open group).")
    static final class Add extends Sub {
      @Parameters(index = "0", paramLabel = "GROUP") String groupId;
      @Parameters(index = "1", paramLabel = "ADDR") String member;

      @Override
      List<String> addresses() {
        return List.of(member);
      }

      @Override
      int run(EsmpClient client) throws IOException {
        printAck(client.addMember(groupId, member), "added " + member);
        return 0;
      }
    }

    @Command(name = "remove", description = "Remove ADDR from GROUP (admins).")
    static final class Remove extends Sub {
      @Parameters(index = "0", paramLabel = "GROUP") String groupId;
      @Parameters(index = "1", paramLabel = "ADDR") String member;

      @Override
      List<String> addresses() {
        return List.of(member);
      }

      @Override
      int run(EsmpClient client) throws IOException {
        printAck(client.removeMember(groupId, member), "removed " + member);
        return 0;
      }
    }

    @Command(name = "leave", description = "Leave GROUP.")
    static final class Leave extends Sub {
      @Parameters(paramLabel = "GROUP") String groupId;

      @Override
      int run(EsmpClient client) throws IOException {
        printAck(client.leave(groupId), "left " + groupId);
        return 0;
      }
    }

    @Command(name = "post", description = "Post TEXT to GROUP.")
    static final class Post extends Sub {
      @Parameters(index = "0", paramLabel = "GROUP") String groupId;
      @Parameters(index = "1..*", arity = "1..*", paramLabel = "TEXT", description = "the text (words are joined with spaces)")
      List<String> text;

      @Override
      int run(EsmpClient client) throws IOException {
        printAck(client.post(groupId, String.join(" ", text)), "posted");
        return 0;
      }
    }

    @Command(name = "history", description = "Print GROUP's thread, oldest first (members only).")
    static final class History extends Sub {
      @Parameters(paramLabel = "GROUP") String groupId;
      @Option(names = "--limit", paramLabel = "N", description = "the newest N entries (server default 50, at most 500)")
      Integer limit;

      @Override
      int run(EsmpClient client) throws IOException {
        client.auth();
        List<Delivery> entries = new ArrayList<>(client.history(groupId, null, limit).entries());
        java.util.Collections.reverse(entries);
        for (Delivery d : entries) {
          if (json.json) {
            printJson(d.frame());
          } else {
            out().println(Describe.historyEntry(d));
          }
        }
        return 0;
      }
    }

    @Command(name = "info", description = "Print GROUP's name, policy, members and admins (members only).")
    static final class Info extends Sub {
      @Parameters(paramLabel = "GROUP") String groupId;

      @Override
      int run(EsmpClient client) throws IOException {
        client.auth();
        EsmpClient.GroupInfo info = client.groupInfo(groupId);
        if (json.json) {
          printJson(info.json());
        } else {
          out().println("group   " + info.groupId());
          out().println("name    " + (info.name() == null ? "" : info.name()));
          out().println("policy  " + info.policy());
          out().println("members " + String.join(", ", info.members()));
          out().println("admins  " + String.join(", ", info.admins()));
          out().println("seq     " + info.seq());
        }
        return 0;
      }
    }
  }

  /** {@code --version}: the jar's Implementation-Version. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = EsmpCli.class.getPackage().getImplementationVersion();
      return new String[] {"esmp " + (v != null ? v : "(development)") + ", ESMP/1"};
    }
  }

  /** Jackson objects for --json output. */
  static final class JsonOut {
    private static final com.fasterxml.jackson.databind.ObjectMapper MAPPER =
        new com.fasterxml.jackson.databind.ObjectMapper();

    static ObjectNode object() {
      return MAPPER.createObjectNode();
    }

    /** {@code json} as a tree; a missing node for null. */
    static JsonNode read(String json) {
      if (json == null) {
        return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
      }
      try {
        return MAPPER.readTree(json);
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new IllegalArgumentException("not JSON: " + json, e);
      }
    }
  }

  /** One-line human descriptions of what arrives. */
  static final class Describe {
    static String delivery(Delivery d) {
      return (d.groupId() != null ? "[" + d.groupId() + " #" + d.seq() + "] " : "") + line(d);
    }

    static String historyEntry(Delivery d) {
      return "#" + d.seq() + " " + line(d);
    }

    private static String line(Delivery d) {
      JsonNode body = JsonOut.read(d.body());
      String member = body.path("member").asText(d.from());
      return switch (d.type()) {
        case "group_created" -> {
          List<String> members = new ArrayList<>();
          body.path("members").forEach(m -> members.add(m.asText()));
          yield d.from() + " created the group" + (body.hasNonNull("name")
              ? " \"" + body.get("name").asText() + "\"" : "")
              + (members.isEmpty() ? "" : " with " + String.join(", ", members));
        }
        case "joined" -> member.equals(d.from()) ? d.from() + " joined" : d.from() + " added " + member;
        case "left" -> d.from() + " left";
        case "removed" -> d.from() + " removed " + member;
        default -> d.from() + ": " + (d.text() != null ? d.text()
            : d.type() + " " + new String(Jcs.compact(body), UTF_8));
      };
    }
  }
}
