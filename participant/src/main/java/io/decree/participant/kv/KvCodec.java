package io.decree.participant.kv;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Byte formats of the store: the write set (branch data handed to the participant runtime, and the
 * payload of a commit record in the store's own WAL) and snapshot chunks. Big-endian, every string
 * is an unsigned 16-bit length and UTF-8 bytes, every format starts with a magic byte and a version
 * so that foreign bytes are rejected instead of misread.
 */
final class KvCodec {
  /** WAL record type of a committed branch: a write set. */
  static final int TYPE_COMMIT = 1;

  /** WAL record type of one piece of a full-state snapshot. */
  static final int TYPE_SNAPSHOT_CHUNK = 2;

  static final int STRING_BYTES_MAX = 4_096;
  static final int SNAPSHOT_CHUNK_HEADER_BYTES = 1 + 1 + 8 + 4 + 4;

  private static final byte WRITE_SET_MAGIC = 'W';
  private static final byte SNAPSHOT_CHUNK_MAGIC = 'S';
  private static final byte VERSION = 1;

  private KvCodec() {}

  /** A decoding failure: the bytes are not something this codec wrote. */
  static final class MalformedException extends Exception {
    private static final long serialVersionUID = 1L;

    MalformedException(String message) {
      super(message);
    }

    MalformedException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** A decoded write set. */
  record WriteSet(String txId, SortedMap<String, Long> writes) {}

  /** A decoded snapshot chunk header and its piece of the state. */
  record SnapshotChunk(long snapshotSeq, int index, int count, byte[] bytes) {}

  /** A decoded full state: committed values and applied txIds in commit order. */
  record State(Map<String, Long> values, LinkedHashMap<String, Long> appliedTxIds) {}

  static long writeSetBytesMax(int txIdBytesMax, int keysMax, int keyBytesMax) {
    return 2L + 2 + txIdBytesMax + 4 + (long) keysMax * (2 + keyBytesMax + 8);
  }

  static byte[] encodeWriteSet(String txId, SortedMap<String, Long> writes) {
    Out out = new Out();
    out.writeByte(WRITE_SET_MAGIC);
    out.writeByte(VERSION);
    out.writeString(txId);
    out.writeInt(writes.size());
    for (Map.Entry<String, Long> e : writes.entrySet()) {
      out.writeString(e.getKey());
      out.writeLong(e.getValue());
    }
    return out.toByteArray();
  }

  static WriteSet decodeWriteSet(byte[] bytes) throws MalformedException {
    In in = new In(bytes, "write set");
    in.expectHeader(WRITE_SET_MAGIC);
    String txId = in.readString();
    int count = in.readCount();
    SortedMap<String, Long> writes = new TreeMap<>();
    for (int i = 0; i < count; i++) {
      String key = in.readString();
      long value = in.readLong();
      if (writes.put(key, value) != null) {
        throw new MalformedException("write set of " + txId + " names key '" + key + "' twice");
      }
    }
    in.expectEnd();
    return new WriteSet(txId, Collections.unmodifiableSortedMap(writes));
  }

  /** The state as one byte string, to be cut into chunks by {@link #encodeSnapshotChunks}. */
  static byte[] encodeState(Map<String, Long> values, List<Map.Entry<String, Long>> applied) {
    Out out = new Out();
    out.writeByte(VERSION);
    out.writeInt(values.size());
    for (Map.Entry<String, Long> e : values.entrySet()) {
      out.writeString(e.getKey());
      out.writeLong(e.getValue());
    }
    out.writeInt(applied.size());
    for (Map.Entry<String, Long> e : applied) {
      out.writeString(e.getKey());
      out.writeLong(e.getValue());
    }
    return out.toByteArray();
  }

  static State decodeState(byte[] bytes) throws MalformedException {
    In in = new In(bytes, "snapshot");
    byte version = in.readByte();
    if (version != VERSION) {
      throw new MalformedException("snapshot has version " + version + ", expected " + VERSION);
    }
    int keyCount = in.readCount();
    Map<String, Long> values = new java.util.HashMap<>(Math.max(16, keyCount * 2));
    for (int i = 0; i < keyCount; i++) {
      values.put(in.readString(), in.readLong());
    }
    int appliedCount = in.readCount();
    LinkedHashMap<String, Long> applied = new LinkedHashMap<>();
    for (int i = 0; i < appliedCount; i++) {
      applied.put(in.readString(), in.readLong());
    }
    in.expectEnd();
    return new State(values, applied);
  }

  /** Cuts a state into records of at most {@code recordBytesMax} bytes each (at least one). */
  static List<byte[]> encodeSnapshotChunks(long snapshotSeq, byte[] state, int recordBytesMax) {
    int pieceBytes = recordBytesMax - SNAPSHOT_CHUNK_HEADER_BYTES;
    int count = Math.max(1, (state.length + pieceBytes - 1) / pieceBytes);
    List<byte[]> chunks = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      int from = i * pieceBytes;
      int length = Math.min(pieceBytes, state.length - from);
      ByteBuffer b = ByteBuffer.allocate(SNAPSHOT_CHUNK_HEADER_BYTES + length);
      b.put(SNAPSHOT_CHUNK_MAGIC).put(VERSION).putLong(snapshotSeq).putInt(i).putInt(count);
      b.put(state, from, length);
      chunks.add(b.array());
    }
    return chunks;
  }

  static SnapshotChunk decodeSnapshotChunk(byte[] bytes) throws MalformedException {
    In in = new In(bytes, "snapshot chunk");
    in.expectHeader(SNAPSHOT_CHUNK_MAGIC);
    long seq = in.readLong();
    int index = in.readCount();
    int count = in.readCount();
    if (index >= count) {
      throw new MalformedException("snapshot chunk " + index + " of " + count);
    }
    return new SnapshotChunk(seq, index, count, in.rest());
  }

  /** Grows in memory; encoding cannot fail except for a string longer than the format allows. */
  private static final class Out {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
    private final DataOutputStream data = new DataOutputStream(bytes);

    void writeByte(int b) {
      try {
        data.writeByte(b);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    void writeInt(int v) {
      try {
        data.writeInt(v);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    void writeLong(long v) {
      try {
        data.writeLong(v);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    void writeString(String s) {
      byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
      if (utf8.length > STRING_BYTES_MAX) {
        // Callers validate keys and txIds against smaller limits first; reaching this is a bug.
        throw new IllegalStateException(
            "string of " + utf8.length + " bytes exceeds the format's " + STRING_BYTES_MAX);
      }
      try {
        data.writeShort(utf8.length);
        data.write(utf8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    byte[] toByteArray() {
      return bytes.toByteArray();
    }
  }

  private static final class In {
    private final ByteBuffer buffer;
    private final String what;

    In(byte[] bytes, String what) {
      this.buffer = ByteBuffer.wrap(bytes);
      this.what = what;
    }

    void expectHeader(byte magic) throws MalformedException {
      byte m = readByte();
      if (m != magic) {
        throw new MalformedException(what + " starts with byte " + m + ", expected " + magic);
      }
      byte version = readByte();
      if (version != VERSION) {
        throw new MalformedException(what + " has version " + version + ", expected " + VERSION);
      }
    }

    byte readByte() throws MalformedException {
      try {
        return buffer.get();
      } catch (BufferUnderflowException e) {
        throw truncated(e);
      }
    }

    long readLong() throws MalformedException {
      try {
        return buffer.getLong();
      } catch (BufferUnderflowException e) {
        throw truncated(e);
      }
    }

    int readCount() throws MalformedException {
      int n;
      try {
        n = buffer.getInt();
      } catch (BufferUnderflowException e) {
        throw truncated(e);
      }
      if (n < 0) {
        throw new MalformedException(what + " has a negative count " + n);
      }
      return n;
    }

    String readString() throws MalformedException {
      try {
        int length = Short.toUnsignedInt(buffer.getShort());
        if (length > buffer.remaining()) {
          throw truncated(null);
        }
        ByteBuffer slice = buffer.slice();
        slice.limit(length);
        buffer.position(buffer.position() + length);
        return StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(slice)
            .toString();
      } catch (BufferUnderflowException e) {
        throw truncated(e);
      } catch (CharacterCodingException e) {
        throw new MalformedException(what + " holds a string that is not UTF-8", e);
      }
    }

    byte[] rest() {
      byte[] rest = new byte[buffer.remaining()];
      buffer.get(rest);
      return rest;
    }

    void expectEnd() throws MalformedException {
      if (buffer.hasRemaining()) {
        throw new MalformedException(what + " has " + buffer.remaining() + " trailing bytes");
      }
    }

    private MalformedException truncated(Throwable cause) {
      return new MalformedException(what + " is truncated at byte " + buffer.position(), cause);
    }
  }
}
