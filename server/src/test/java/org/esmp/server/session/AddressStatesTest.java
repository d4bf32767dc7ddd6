package org.esmp.server.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.esmp.api.Address;
import org.esmp.api.ErrorCode;
import org.esmp.api.RejectedException;
import org.esmp.api.Stored;
import org.esmp.api.spi.Storage;
import org.junit.jupiter.api.Test;

/** Disabled and removed addresses: their stored form, loaded from a storage, and the refusal. */
class AddressStatesTest {

  private static final Address ALICE = Address.parse("alice#example.com");
  private static final Address BOB = Address.parse("bob#example.com");

  @Test
  void loadsWhatWasStoredAndRefusesThoseAddressesForbidden() {
    AddressStates.Entry disabled = new AddressStates.Entry(AddressStates.State.DISABLED, 1_700_000_000_000L);
    AddressStates.Entry removed = new AddressStates.Entry(AddressStates.State.REMOVED, 1_700_000_000_001L);
    assertEquals("disabled 1700000000000", new String(AddressStates.encode(disabled), StandardCharsets.US_ASCII));
    Storage storage = mock(Storage.class);
    when(storage.scan(eq(AddressStates.SPACE), anyString(), anyString(), anyInt())).thenReturn(List.of(
        new Stored(ALICE.toString(), AddressStates.encode(disabled)),
        new Stored(BOB.toString(), AddressStates.encode(removed))));

    AddressStates states = new AddressStates();
    states.load(storage);
    assertEquals(Optional.of(disabled), states.of(ALICE));
    assertEquals(Optional.of(removed), states.of(BOB));
    RejectedException refused = assertThrows(RejectedException.class, () -> states.check(ALICE));
    assertEquals(ErrorCode.FORBIDDEN, refused.code());
    assertEquals("alice#example.com is disabled on this server", refused.getMessage());
    assertEquals("bob#example.com was removed from this server",
        assertThrows(RejectedException.class, () -> states.check(BOB)).getMessage());

    states.clear(ALICE);
    states.check(ALICE); // enabled again: no refusal
  }

  @Test
  void reloadHoldsWhatTheStorageHoldsNowDroppingWhatOtherServersCleared() {
    AddressStates.Entry disabled = new AddressStates.Entry(AddressStates.State.DISABLED, 1);
    Storage storage = mock(Storage.class);
    when(storage.scan(eq(AddressStates.SPACE), anyString(), anyString(), anyInt()))
        .thenReturn(List.of(new Stored(ALICE.toString(), AddressStates.encode(disabled))))
        .thenReturn(List.of(new Stored(BOB.toString(), AddressStates.encode(disabled))));
    AddressStates states = new AddressStates();
    states.load(storage);
    assertEquals(Optional.of(disabled), states.of(ALICE));

    states.reload(storage); // another server enabled alice and disabled bob
    assertEquals(Optional.empty(), states.of(ALICE));
    assertEquals(Optional.of(disabled), states.of(BOB));
  }

  @Test
  void refusesAStoredStateItDidNotWrite() {
    IllegalStateException damaged = assertThrows(IllegalStateException.class,
        () -> AddressStates.decode("alice#example.com", "paused 12".getBytes(StandardCharsets.US_ASCII)));
    assertTrue(damaged.getMessage().contains("the state of alice#example.com is damaged"), damaged.getMessage());
  }
}
