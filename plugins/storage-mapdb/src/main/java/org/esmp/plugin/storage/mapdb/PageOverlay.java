package org.esmp.plugin.storage.mapdb;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.mapdb.DataIO;
import org.mapdb.volume.Volume;

/**
 * The store file's bytes as written so far: an in-memory overlay of 4 KiB pages over the file,
 * which is read wherever the overlay has no page. Writes never touch the file.
 *
 * <p>A page enters the overlay on its first write, copied from the file, and leaves only after a
 * checkpoint has written its bytes into the file ({@link #release}). Each page marks the 64-byte
 * chunks written since the last commit, which {@link Journal#append} writes as the commit's record;
 * a page's first write after a commit keeps its before-image (none for a page new to the overlay,
 * which a rollback removes) for {@link #rollback}. {@link #freeze} hands the pages written since
 * the last checkpoint to a checkpoint: a later write to a frozen page goes to a copy, which the
 * checkpoint leaves in the overlay.
 *
 * <p>Threads: the writer methods (the writes, {@link #committed}, {@link #rollback}, {@link
 * #freeze}, {@link #grow}) are called by one thread at a time (under the volume's lock), {@link
 * #release} by the checkpoint thread, and the reads from any thread without locks, as MapDB's own
 * volumes allow. A page leaves the overlay only after its bytes are in the file, so a reader that
 * finds no page reads the same bytes there.
 */
final class PageOverlay {

  static final int PAGE_SHIFT = 12;
  static final int PAGE_SIZE = 1 << PAGE_SHIFT;
  static final int PAGE_MASK = PAGE_SIZE - 1;
  /** Journal granularity: a page's 64 chunks of 64 bytes map onto one long of dirty bits. */
  static final int CHUNK_SHIFT = 6;
  static final int CHUNK_SIZE = 1 << CHUNK_SHIFT;

  /** One page of the overlay. */
  static final class Page {
    final long number;
    final byte[] bytes;
    /** Chunks written since the last commit, bit i for bytes [64 i, 64 i + 64). Writer only. */
    long dirtyChunks;
    /** Being written into the file by a checkpoint: its bytes do not change any more. */
    boolean frozen;

    Page(long number, byte[] bytes) {
      this.number = number;
      this.bytes = bytes;
    }
  }

  /** The store file, read where the overlay has no page; never written here. */
  private final Volume base;
  /** Overlay pages by page number; null where the file's bytes are current. */
  private volatile AtomicReferenceArray<Page> table;
  /** Guards replacing {@link #table} by a larger one against the checkpoint's removals. */
  private final Object tableLock = new Object();
  /** The pages written since the last checkpoint started. Writer only. */
  private List<Page> sinceCheckpoint = new ArrayList<>();
  /** Pages written since the last commit, with their dirty chunks. Writer only. */
  private final List<Page> uncommitted = new ArrayList<>();
  /** Before-images of the pages written since the last commit; null for pages new to the overlay. */
  private final Map<Page, byte[]> undo = new HashMap<>();
  private final byte[] zeroCheck = new byte[PAGE_SIZE];

  /** An empty overlay over {@code base}, with room for the pages it has now (see {@link #grow}). */
  PageOverlay(Volume base) {
    this.base = base;
    this.table = new AtomicReferenceArray<>(pageCount(base.length()));
  }

  // ---- writes (writer only)

  /** The overlay page {@code number}, made ready for a write of {@code [from, to)} in it. */
  private Page writable(long number, int from, int to) {
    AtomicReferenceArray<Page> table = this.table;
    if (number >= table.length()) {
      throw new IllegalStateException("write beyond the allocated volume at page " + number);
    }
    Page page = table.get((int) number);
    if (page == null) {
      byte[] bytes = new byte[PAGE_SIZE];
      base.getData(number << PAGE_SHIFT, bytes, 0, PAGE_SIZE);
      page = new Page(number, bytes);
      undo.put(page, null);
      sinceCheckpoint.add(page);
      table.set((int) number, page);
    } else if (page.frozen) {
      // Being checkpointed: write into a copy, which the checkpoint leaves in the overlay.
      Page copy = new Page(number, page.bytes.clone());
      undo.put(copy, page.bytes);
      sinceCheckpoint.add(copy);
      table.set((int) number, copy);
      page = copy;
    } else if (page.dirtyChunks == 0 && !undo.containsKey(page)) {
      undo.put(page, page.bytes.clone());
    }
    if (page.dirtyChunks == 0) {
      uncommitted.add(page);
    }
    long first = from >>> CHUNK_SHIFT;
    long last = (to - 1) >>> CHUNK_SHIFT;
    long bits = last == 63 ? -1L << first : ((1L << (last + 1)) - 1) & (-1L << first);
    page.dirtyChunks |= bits;
    return page;
  }

  void putLong(long offset, long value) {
    int at = (int) (offset & PAGE_MASK);
    if (at <= PAGE_SIZE - 8) {
      DataIO.putLong(writable(offset >>> PAGE_SHIFT, at, at + 8).bytes, at, value);
    } else {
      byte[] b = new byte[8];
      DataIO.putLong(b, 0, value);
      putData(offset, b, 0, 8);
    }
  }

  void putInt(long offset, int value) {
    int at = (int) (offset & PAGE_MASK);
    if (at <= PAGE_SIZE - 4) {
      DataIO.putInt(writable(offset >>> PAGE_SHIFT, at, at + 4).bytes, at, value);
    } else {
      byte[] b = new byte[4];
      DataIO.putInt(b, 0, value);
      putData(offset, b, 0, 4);
    }
  }

  void putByte(long offset, byte value) {
    int at = (int) (offset & PAGE_MASK);
    writable(offset >>> PAGE_SHIFT, at, at + 1).bytes[at] = value;
  }

  void putData(long offset, byte[] src, int srcPos, int srcSize) {
    while (srcSize > 0) {
      int at = (int) (offset & PAGE_MASK);
      int n = Math.min(srcSize, PAGE_SIZE - at);
      System.arraycopy(src, srcPos, writable(offset >>> PAGE_SHIFT, at, at + n).bytes, at, n);
      offset += n;
      srcPos += n;
      srcSize -= n;
    }
  }

  /** Zeroes {@code [startOffset, endOffset)}; pages whose bytes there are zero already stay out. */
  void clear(long startOffset, long endOffset) {
    long offset = startOffset;
    while (offset < endOffset) {
      long number = offset >>> PAGE_SHIFT;
      int at = (int) (offset & PAGE_MASK);
      int n = (int) Math.min(endOffset - offset, PAGE_SIZE - at);
      if (table.get((int) number) != null || !baseIsZero(offset, n)) {
        Arrays.fill(writable(number, at, at + n).bytes, at, at + n, (byte) 0);
      }
      offset += n;
    }
  }

  private boolean baseIsZero(long offset, int length) {
    base.getData(offset, zeroCheck, 0, length);
    for (int i = 0; i < length; i++) {
      if (zeroCheck[i] != 0) {
        return false;
      }
    }
    return true;
  }

  /** Makes room for the pages of a file of {@code length} bytes, once the file has grown to it. */
  void grow(long length) {
    int pages = pageCount(length);
    synchronized (tableLock) {
      AtomicReferenceArray<Page> table = this.table;
      if (pages > table.length()) {
        AtomicReferenceArray<Page> grown =
            new AtomicReferenceArray<>(Math.max(pages, table.length() + table.length() / 2));
        for (int i = 0; i < table.length(); i++) {
          grown.set(i, table.get(i));
        }
        this.table = grown;
      }
    }
  }

  private static int pageCount(long length) {
    long pages = (length + PAGE_MASK) >>> PAGE_SHIFT;
    if (pages > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException("store file too large: " + length);
    }
    return (int) pages;
  }

  // ---- commit, rollback, checkpoint

  /** Whether anything was written since the last commit. Writer only. */
  boolean hasUncommitted() {
    return !uncommitted.isEmpty();
  }

  /**
   * The pages written since the last commit, in the order of their first write, each with its
   * {@link Page#dirtyChunks}: what the next journal record holds. A view, until the next write,
   * {@link #committed} or {@link #rollback}. Writer only.
   */
  List<Page> uncommitted() {
    return Collections.unmodifiableList(uncommitted);
  }

  /** Once the writes since the last commit are durable: they are what a rollback returns to. */
  void committed() {
    for (Page page : uncommitted) {
      page.dirtyChunks = 0;
    }
    uncommitted.clear();
    undo.clear();
  }

  /** Undoes every write since the last commit. */
  void rollback() {
    AtomicReferenceArray<Page> table = this.table;
    for (Map.Entry<Page, byte[]> e : undo.entrySet()) {
      Page page = e.getKey();
      if (e.getValue() == null) {
        table.set((int) page.number, null);
        sinceCheckpoint.remove(page);
      } else {
        System.arraycopy(e.getValue(), 0, page.bytes, 0, PAGE_SIZE);
      }
      page.dirtyChunks = 0;
    }
    undo.clear();
    uncommitted.clear();
  }

  /** How many pages were written since the last checkpoint started. Writer only. */
  int sinceCheckpoint() {
    return sinceCheckpoint.size();
  }

  /**
   * Freezes the pages written since the last checkpoint started and returns them, for a checkpoint
   * to write into the file. Only committed bytes may be in the overlay when this is called: their
   * bytes do not change any more (a later write goes to a copy). Writer only.
   */
  List<Page> freeze() {
    List<Page> frozen = sinceCheckpoint;
    sinceCheckpoint = new ArrayList<>();
    for (Page page : frozen) {
      page.frozen = true;
    }
    return frozen;
  }

  /**
   * Checkpoint thread: drops {@code frozen} from the overlay, once the file has their bytes (a
   * reader that finds no page reads them there). A page written since was copied, and its copy
   * stays.
   */
  void release(List<Page> frozen) {
    synchronized (tableLock) {
      AtomicReferenceArray<Page> table = this.table;
      for (Page page : frozen) {
        table.compareAndSet((int) page.number, page, null);
      }
    }
  }

  /** Pages in the overlay now, frozen or not, for tests and measurements. */
  int size() {
    AtomicReferenceArray<Page> table = this.table;
    int count = 0;
    for (int i = 0; i < table.length(); i++) {
      if (table.get(i) != null) {
        count++;
      }
    }
    return count;
  }

  // ---- reads: overlay first (any thread)

  private Page page(long offset) {
    AtomicReferenceArray<Page> table = this.table;
    long number = offset >>> PAGE_SHIFT;
    return number < table.length() ? table.get((int) number) : null;
  }

  long getLong(long offset) {
    int at = (int) (offset & PAGE_MASK);
    if (at > PAGE_SIZE - 8) {
      byte[] b = new byte[8];
      getData(offset, b, 0, 8);
      return DataIO.getLong(b, 0);
    }
    Page page = page(offset);
    return page == null ? base.getLong(offset) : DataIO.getLong(page.bytes, at);
  }

  int getInt(long offset) {
    int at = (int) (offset & PAGE_MASK);
    if (at > PAGE_SIZE - 4) {
      byte[] b = new byte[4];
      getData(offset, b, 0, 4);
      return DataIO.getInt(b, 0);
    }
    Page page = page(offset);
    return page == null ? base.getInt(offset) : DataIO.getInt(page.bytes, at);
  }

  byte getByte(long offset) {
    Page page = page(offset);
    return page == null ? base.getByte(offset) : page.bytes[(int) (offset & PAGE_MASK)];
  }

  void getData(long offset, byte[] bytes, int bytesPos, int size) {
    while (size > 0) {
      int at = (int) (offset & PAGE_MASK);
      int n = Math.min(size, PAGE_SIZE - at);
      Page page = page(offset);
      if (page == null) {
        base.getData(offset, bytes, bytesPos, n);
      } else {
        System.arraycopy(page.bytes, at, bytes, bytesPos, n);
      }
      offset += n;
      bytesPos += n;
      size -= n;
    }
  }

  /** Whether any page of {@code [offset, offset + size)} is in the overlay. */
  boolean overlaid(long offset, int size) {
    AtomicReferenceArray<Page> table = this.table;
    long last = (offset + Math.max(size, 1) - 1) >>> PAGE_SHIFT;
    for (long number = offset >>> PAGE_SHIFT; number <= last; number++) {
      if (number < table.length() && table.get((int) number) != null) {
        return true;
      }
    }
    return false;
  }
}
