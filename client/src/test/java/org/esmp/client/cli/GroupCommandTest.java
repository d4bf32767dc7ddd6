package org.esmp.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code esmp group} on its own. */
class GroupCommandTest {

  @Test
  void withoutASubcommandIsAUsageError() {
    Cli.Result r = Cli.run("group");
    assertEquals(2, r.code());
    assertTrue(r.err().startsWith("group: which command?\nUsage: esmp group [-hV] [COMMAND]\n"), r.err());
  }

  @Test
  void helpListsTheSubcommandsInOrder() {
    Cli.Result r = Cli.run("help", "group");
    assertEquals(0, r.code());
    assertEquals("""
        Usage: esmp group [-hV] [COMMAND]
        Groups: create, add, remove, leave, post, history, info.
          -h, --help      Show this help message and exit.
          -V, --version   Print version information and exit.
        Commands:
          create   Create a group and print its id.
          add      Add ADDR to GROUP (admins; anyone can add themselves to an open
                     group).
          remove   Remove ADDR from GROUP (admins).
          leave    Leave GROUP.
          post     Post TEXT to GROUP.
          history  Print GROUP's thread, oldest first (members only).
          info     Print GROUP's name, policy, members and admins (members only).
        """, r.out());
  }
}
