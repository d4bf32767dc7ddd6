package org.esmp.plugin.storage.mapdb;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.util.Set;

/**
 * How the journal opens the channels it writes (the journals and the store file's checkpoint
 * channel): {@link FileChannel#open} in production, a channel that fails on demand in tests of the
 * error paths. Also the one loop of positional writes that the journal, its replay and the
 * checkpoint share.
 */
@FunctionalInterface
interface FileAccess {

  FileAccess DEFAULT = FileChannel::open;

  FileChannel open(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attributes)
      throws IOException;

  /** Writes all of {@code buffer} at {@code position}; the position after it. */
  static long writeFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
    while (buffer.hasRemaining()) {
      position += channel.write(buffer, position);
    }
    return position;
  }
}
