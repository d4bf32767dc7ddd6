package org.esmp.server.federation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.naming.NamingException;
import org.esmp.api.federation.Federation.Endpoint;
import org.esmp.server.config.ServerConfig;
import org.junit.jupiter.api.Test;

/** Discovery of a domain's server: configured peer, else DNS SRV, else the domain on 5888. */
class PeerEndpointsTest {

  private final List<String> asked = new ArrayList<>();

  private PeerEndpoints withDns(List<PeerEndpoints.Srv> records, ServerConfig.Peer... peers) {
    ServerConfig.Builder builder = ServerConfig.builder();
    for (ServerConfig.Peer peer : peers) {
      builder.peer(peer);
    }
    return new PeerEndpoints(builder.build().peering(), name -> {
      asked.add(name);
      return records;
    });
  }

  @Test
  void aConfiguredPeerWinsWithoutAskingDns() {
    PeerEndpoints endpoints = withDns(List.of(new PeerEndpoints.Srv(0, 0, 1, "dns.example.")),
        new ServerConfig.Peer("b.example", "10.0.0.2", 5889, Optional.empty()));
    assertEquals(List.of(new Endpoint("10.0.0.2", 5889)), endpoints.endpoints("b.example"));
    assertEquals(List.of(), asked);
  }

  @Test
  void srvTargetsComeByPriorityThenWeight() {
    PeerEndpoints endpoints = withDns(List.of(
        new PeerEndpoints.Srv(20, 0, 5888, "backup.b.example."),
        new PeerEndpoints.Srv(10, 5, 5890, "small.b.example."),
        new PeerEndpoints.Srv(10, 60, 5889, "big.b.example.")));
    assertEquals(List.of(new Endpoint("big.b.example", 5889), new Endpoint("small.b.example", 5890),
        new Endpoint("backup.b.example", 5888)), endpoints.endpoints("b.example"));
    assertEquals(List.of("_esmp-server._tcp.b.example"), asked);
  }

  @Test
  void withoutSrvTheDomainItselfOnTheDefaultPort() {
    assertEquals(List.of(new Endpoint("b.example", 5888)), withDns(List.of()).endpoints("b.example"));
  }

  @Test
  void aDnsFailureFallsBackToTheDomain() {
    PeerEndpoints endpoints = new PeerEndpoints(ServerConfig.builder().build().peering(), name -> {
      throw new NamingException("timeout");
    });
    assertEquals(List.of(new Endpoint("b.example", 5888)), endpoints.endpoints("b.example"));
  }

  @Test
  void aDotTargetMeansNoServer() {
    assertEquals(List.of(), withDns(List.of(new PeerEndpoints.Srv(0, 0, 0, "."))).endpoints("b.example"));
  }
}
