package org.esmp.server.federation;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Hashtable;
import java.util.List;
import javax.naming.NamingEnumeration;
import javax.naming.NamingException;
import javax.naming.directory.Attribute;
import javax.naming.directory.DirContext;
import javax.naming.directory.InitialDirContext;
import org.esmp.api.federation.Federation.Endpoint;
import org.esmp.server.config.ServerConfig;

/**
 * Where the server of a domain listens (ESMP/1 section 8): the peer the operator configured; else
 * the targets of DNS SRV {@code _esmp-server._tcp.DOMAIN}, lowest priority first and, within one
 * priority, highest weight first; else {@code DOMAIN:5888}. An SRV answer of {@code "."} says the
 * domain offers no server: no endpoint then.
 */
public final class PeerEndpoints {

  /** The port of a domain without a configured peer or an SRV record. */
  public static final int DEFAULT_PORT = 5888;

  /** The DNS lookup of SRV records: the JDK's resolver, or a test's. */
  @FunctionalInterface
  public interface SrvLookup {
    /**
     * The SRV records of {@code name}; empty when there are none (NXDOMAIN or no such record).
     *
     * @throws NamingException when DNS could not answer
     */
    List<Srv> lookup(String name) throws NamingException;
  }

  /** One SRV record (RFC 2782). */
  public record Srv(int priority, int weight, int port, String target) {}

  private final ServerConfig.Peering peering;
  private final SrvLookup dns;

  public PeerEndpoints(ServerConfig.Peering peering, SrvLookup dns) {
    this.peering = peering;
    this.dns = dns;
  }

  /** With the JDK's DNS resolver (JNDI), which reads the system's resolver configuration. */
  public static PeerEndpoints withSystemDns(ServerConfig.Peering peering) {
    return new PeerEndpoints(peering, PeerEndpoints::systemLookup);
  }

  /** The endpoints of {@code domain}, to try in order. Blocks on DNS when no peer is configured. */
  public List<Endpoint> endpoints(String domain) {
    var configured = peering.peer(domain);
    if (configured.isPresent()) {
      return List.of(new Endpoint(configured.get().host(), configured.get().port()));
    }
    List<Srv> records;
    try {
      records = dns.lookup("_esmp-server._tcp." + domain);
    } catch (NamingException e) {
      records = List.of(); // DNS did not answer: the domain itself is the best guess left
    }
    if (records.isEmpty()) {
      return List.of(new Endpoint(domain, DEFAULT_PORT));
    }
    if (records.size() == 1 && records.get(0).target().equals(".")) {
      return List.of();
    }
    List<Srv> ordered = new ArrayList<>(records);
    ordered.sort(Comparator.comparingInt(Srv::priority).thenComparing(Comparator.comparingInt(Srv::weight).reversed()));
    List<Endpoint> endpoints = new ArrayList<>();
    for (Srv record : ordered) {
      String target = record.target().endsWith(".") ? record.target().substring(0, record.target().length() - 1)
          : record.target();
      if (!target.isEmpty()) {
        endpoints.add(new Endpoint(target, record.port()));
      }
    }
    return List.copyOf(endpoints);
  }

  private static List<Srv> systemLookup(String name) throws NamingException {
    Hashtable<String, String> env = new Hashtable<>();
    env.put("java.naming.factory.initial", "com.sun.jndi.dns.DnsContextFactory");
    env.put("com.sun.jndi.dns.timeout.initial", "2000");
    env.put("com.sun.jndi.dns.timeout.retries", "2");
    DirContext context = new InitialDirContext(env);
    try {
      Attribute srv;
      try {
        srv = context.getAttributes(name, new String[] {"SRV"}).get("SRV");
      } catch (javax.naming.NameNotFoundException absent) {
        return List.of();
      }
      if (srv == null) {
        return List.of();
      }
      List<Srv> records = new ArrayList<>();
      NamingEnumeration<?> values = srv.getAll();
      while (values.hasMore()) {
        String[] parts = values.next().toString().trim().split("\\s+");
        if (parts.length == 4) {
          try {
            records.add(new Srv(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]), Integer.parseInt(parts[2]),
                parts[3]));
          } catch (NumberFormatException ignored) {
            // a malformed record is skipped
          }
        }
      }
      return records;
    } finally {
      context.close();
    }
  }
}
