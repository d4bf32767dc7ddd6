package org.esmp.load.scenario;

/**
 * The sizes of a run, from the command line; validated by {@link org.esmp.load.LoadTool}.
 *
 * @param connections direct: connections, each its own address
 * @param window frames a connection may have unanswered
 * @param messages direct: messages in the timed round, all connections together
 * @param messageBytes size of a direct message's or group post's frame
 * @param warmupMessages direct: messages sent (untimed) before the timed round
 * @param members fanout and paced: members of the group, each online on its own connection
 * @param senders fanout: members posting at once
 * @param fanoutPosts fanout: posts in the timed round, all senders together
 * @param warmupPosts fanout and paced: posts sent (untimed) to the group first
 * @param rate paced: posts a second
 * @param seconds paced: how long; also the length of direct's run at half the maximum rate
 * @param idleConnections idle: connections held open
 * @param diskMembers disk: members of the group posted to
 * @param diskPostBytes disk: size of a post's frame
 * @param diskPosts disk: posts measured
 * @param settleSeconds disk: wait before each disk sample, for the server's background writes
 * @param timeoutSeconds longest wait for answers or deliveries before a round gives up
 * @param setupParallelism connections set up at once (auth, sync)
 * @param jcmd whether to measure the server's heap after GC with jcmd (idle)
 */
public record Settings(int connections, int window, int messages, int messageBytes, int warmupMessages,
    int members, int senders, int fanoutPosts, int warmupPosts, int rate, int seconds, int idleConnections,
    int diskMembers, int diskPostBytes, int diskPosts, double settleSeconds, int timeoutSeconds,
    int setupParallelism, boolean jcmd) {

  /** {@link #timeoutSeconds} in milliseconds. */
  public int timeoutMillis() {
    return timeoutSeconds * 1000;
  }
}
