package org.esmp.plugin.storage.mapdb;

import static org.esmp.plugin.storage.mapdb.PageOverlay.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;
import org.esmp.plugin.storage.mapdb.PageOverlay.Page;
import org.junit.jupiter.api.Test;
import org.mapdb.volume.ByteArrayVol;
import org.mapdb.volume.SingleByteArrayVol;
import org.mapdb.volume.Volume;

/** The overlay over an in-memory store file: what it serves to reads, and what it tracks for commits. */
class PageOverlayTest {

  private static final int PAGES = 64;

  private final byte[] file = new byte[PAGES * PAGE_SIZE];
  private final PageOverlay overlay = new PageOverlay(new SingleByteArrayVol(file));

  private static byte[] bytes(int seed, int length) {
    byte[] b = new byte[length];
    new Random(seed).nextBytes(b);
    return b;
  }

  private byte[] read(long offset, int length) {
    byte[] b = new byte[length];
    overlay.getData(offset, b, 0, length);
    return b;
  }

  @Test
  void writesAreReadBackAcrossPagesAndNeverReachTheFile() {
    byte[] data = bytes(1, 10_000);
    overlay.putData(4000, data, 0, data.length); // spans three pages
    overlay.putLong(8190, 0x0102030405060708L); // straddles a page boundary, over data
    overlay.putInt(3 * PAGE_SIZE - 2, 0x0a0b0c0d); // straddles the next
    overlay.putByte(100, (byte) 7);
    ByteBuffer expected = ByteBuffer.wrap(data.clone());
    expected.putLong(8190 - 4000, 0x0102030405060708L).putInt(3 * PAGE_SIZE - 2 - 4000, 0x0a0b0c0d);
    assertArrayEquals(expected.array(), read(4000, data.length));
    assertEquals(0x0102030405060708L, overlay.getLong(8190));
    assertEquals(0x0a0b0c0d, overlay.getInt(3 * PAGE_SIZE - 2));
    assertEquals(7, overlay.getByte(100));
    assertEquals(4, overlay.size());
    assertArrayEquals(new byte[file.length], file, "the file is never written");
  }

  @Test
  void readsFallBackToTheFileWhereTheOverlayHasNoPage() {
    byte[] inFile = bytes(2, 3 * PAGE_SIZE);
    System.arraycopy(inFile, 0, file, 0, inFile.length);
    assertFalse(overlay.overlaid(0, inFile.length));
    overlay.putLong(PAGE_SIZE + 8, 42);
    ByteBuffer.wrap(inFile).putLong(PAGE_SIZE + 8, 42);
    assertArrayEquals(inFile, read(0, inFile.length), "pages 0 and 2 from the file, 1 from the overlay");
    assertTrue(overlay.overlaid(PAGE_SIZE - 1, 2));
    assertFalse(overlay.overlaid(2 * PAGE_SIZE, PAGE_SIZE));
    assertEquals(ByteBuffer.wrap(inFile).getLong(2 * PAGE_SIZE), overlay.getLong(2 * PAGE_SIZE));
  }

  @Test
  void marksTheChunksWrittenSinceTheLastCommitInFirstWriteOrder() {
    overlay.putLong(5 * PAGE_SIZE + 3 * 64 + 60, 1); // chunks 3 and 4 of page 5
    overlay.putByte(2 * PAGE_SIZE + PAGE_SIZE - 1, (byte) 1); // chunk 63 of page 2
    overlay.putByte(5 * PAGE_SIZE, (byte) 1); // chunk 0 of page 5 again
    overlay.putData(7 * PAGE_SIZE, new byte[PAGE_SIZE], 0, PAGE_SIZE); // all of page 7
    assertTrue(overlay.hasUncommitted());
    List<Page> pages = List.copyOf(overlay.uncommitted());
    assertEquals(List.of(5L, 2L, 7L), pages.stream().map(p -> p.number).toList());
    assertEquals(0b11001L, pages.get(0).dirtyChunks);
    assertEquals(1L << 63, pages.get(1).dirtyChunks);
    assertEquals(-1L, pages.get(2).dirtyChunks);

    overlay.committed();
    assertFalse(overlay.hasUncommitted());
    assertEquals(0, pages.get(0).dirtyChunks);
    overlay.putByte(7 * PAGE_SIZE + 64, (byte) 2);
    assertEquals(List.of(7L), overlay.uncommitted().stream().map(p -> p.number).toList());
    assertEquals(0b10L, overlay.uncommitted().get(0).dirtyChunks);
  }

  @Test
  void rollbackRestoresEveryByteSinceTheLastCommit() {
    byte[] committed = bytes(6, 6000);
    overlay.putData(0, committed, 0, committed.length);
    overlay.committed();
    overlay.putData(1000, bytes(7, 3000), 0, 3000); // pages already in the overlay
    overlay.putLong(100_000, 5); // a page new to the overlay
    overlay.clear(0, 64);
    overlay.rollback();
    assertArrayEquals(committed, read(0, committed.length));
    assertEquals(0, overlay.getLong(100_000));
    assertEquals(2, overlay.size());
    assertFalse(overlay.hasUncommitted());
    assertEquals(2, overlay.sinceCheckpoint(), "the page new to the overlay left it");
  }

  @Test
  void clearingZeroesLeavesPagesOutOfTheOverlay() {
    overlay.clear(0, 16 * PAGE_SIZE);
    assertEquals(0, overlay.size());
    assertFalse(overlay.hasUncommitted());
    ByteBuffer.wrap(file).putLong(64, 7);
    overlay.clear(0, PAGE_SIZE);
    assertEquals(0, overlay.getLong(64));
    assertEquals(1, overlay.size(), "the page whose bytes in the file were not zero");
  }

  @Test
  void aWriteToAFrozenPageGoesToACopyThatStaysAfterTheRelease() {
    overlay.putLong(0, 1);
    overlay.putLong(PAGE_SIZE, 1);
    overlay.committed();
    List<Page> frozen = overlay.freeze();
    assertEquals(2, frozen.size());
    assertEquals(0, overlay.sinceCheckpoint());

    overlay.putLong(0, 2); // page 0 is frozen: written into a copy
    assertEquals(2, overlay.getLong(0));
    assertEquals(1, ByteBuffer.wrap(frozen.get(0).bytes).getLong(0), "the frozen bytes do not change");
    overlay.putLong(0, 3);
    overlay.rollback(); // back to the frozen bytes, in the copy
    assertEquals(1, overlay.getLong(0));
    overlay.putLong(0, 2);
    overlay.committed();
    assertEquals(1, overlay.sinceCheckpoint(), "the copy, for the next checkpoint");

    // What a checkpoint does: the file gets the frozen bytes, then the pages leave.
    for (Page page : frozen) {
      System.arraycopy(page.bytes, 0, file, (int) page.number * PAGE_SIZE, PAGE_SIZE);
    }
    overlay.release(frozen);
    assertEquals(1, overlay.size(), "the copy of page 0 stays; page 1 left");
    assertEquals(2, overlay.getLong(0));
    assertEquals(1, overlay.getLong(PAGE_SIZE), "read from the file now");
  }

  @Test
  void aWriteBeyondTheFileIsRefusedUntilTheOverlayGrows() {
    Volume growing = new ByteArrayVol(PageOverlay.PAGE_SHIFT, 0); // grows a page at a time
    growing.ensureAvailable(4 * PAGE_SIZE);
    PageOverlay overlay = new PageOverlay(growing);
    overlay.putLong(8, 1);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> overlay.putLong(5 * PAGE_SIZE, 1));
    assertTrue(e.getMessage().contains("beyond the allocated volume"), e.getMessage());
    growing.ensureAvailable(8 * PAGE_SIZE);
    overlay.grow(8 * PAGE_SIZE);
    overlay.putLong(5 * PAGE_SIZE, 2);
    assertEquals(2, overlay.getLong(5 * PAGE_SIZE));
    assertEquals(1, overlay.getLong(8), "pages already in the overlay stay");
    assertEquals(2, overlay.size());
  }
}
