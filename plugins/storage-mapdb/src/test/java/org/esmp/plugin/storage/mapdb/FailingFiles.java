package org.esmp.plugin.storage.mapdb;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * Channels that fail on demand, as a full or failing disk would: once {@link #failWrites} is set,
 * a positional write to a matching file writes part of its buffer and then throws ENOSPC; once
 * {@link #failForce} is set, a force throws EIO. Counts the calls made after a failure.
 */
final class FailingFiles implements FileAccess {

  private final Predicate<Path> matches;
  volatile boolean failWrites;
  volatile boolean failForce;
  /** Writes and forces attempted on matching files since the first failure. */
  final AtomicInteger callsAfterFailure = new AtomicInteger();
  private volatile boolean failed;

  /** Fails the files whose name matches. */
  FailingFiles(Predicate<Path> matches) {
    this.matches = matches;
  }

  static FailingFiles journals() {
    return new FailingFiles(path -> path.getFileName().toString().contains(".journal."));
  }

  static FailingFiles storeFile() {
    return new FailingFiles(path -> !path.getFileName().toString().contains(".journal."));
  }

  @Override
  public FileChannel open(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attributes)
      throws IOException {
    FileChannel channel = FileChannel.open(path, options, attributes);
    return matches.test(path) ? new Channel(channel) : channel;
  }

  private final class Channel extends FileChannel {
    private final FileChannel inner;

    Channel(FileChannel inner) {
      this.inner = inner;
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
      if (failed) {
        callsAfterFailure.incrementAndGet();
      }
      if (failWrites) {
        if (src.remaining() > 1) {
          // Part of it reaches the file first, as a write that runs out of space would leave.
          ByteBuffer half = src.duplicate();
          half.limit(src.position() + src.remaining() / 2);
          int n = inner.write(half, position);
          src.position(src.position() + n);
        }
        failed = true;
        throw new IOException("No space left on device");
      }
      return inner.write(src, position);
    }

    @Override
    public void force(boolean metaData) throws IOException {
      if (failed) {
        callsAfterFailure.incrementAndGet();
      }
      if (failForce) {
        failed = true;
        throw new IOException("Input/output error");
      }
      inner.force(metaData);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      return inner.read(dst);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
      return inner.read(dsts, offset, length);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      return write(src, inner.position());
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
      throw new UnsupportedOperationException();
    }

    @Override
    public long position() throws IOException {
      return inner.position();
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
      inner.position(newPosition);
      return this;
    }

    @Override
    public long size() throws IOException {
      return inner.size();
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
      inner.truncate(size);
      return this;
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
      return inner.transferTo(position, count, target);
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
      throw new UnsupportedOperationException();
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
      return inner.read(dst, position);
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
      return inner.map(mode, position, size);
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
      return inner.lock(position, size, shared);
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
      return inner.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
      inner.close();
    }
  }
}
