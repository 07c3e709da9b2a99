package io.decree.wal;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The on-disk frame of one WAL record, independent of the storage underneath.
 *
 * <pre>
 *   u8  version        (1)
 *   i32 type           (caller's record type; negative types are reserved for the WAL itself)
 *   i64 durableThrough (the highest position known synced when this record was written)
 *   i32 length         (payload bytes)
 *   ... payload
 *   i32 crc32c         (over every byte above)
 * </pre>
 *
 * <p>Why {@code durableThrough}: Chronicle has no checksum and no commit marker, so after a power
 * loss a bad record could be a torn, never-acknowledged tail or genuine corruption of acknowledged
 * data. A bad record at a position at or below some later record's {@code durableThrough} was
 * certainly synced before, so it is corruption; anything above every such mark may be an unsynced
 * tail and can be cut. Big-endian throughout.
 */
public final class RecordCodec {
  public static final byte VERSION = 1;
  static final int HEADER_BYTES = 1 + 4 + 8 + 4;
  static final int CRC_BYTES = 4;

  /** Bytes a frame adds around its payload. */
  public static final int OVERHEAD_BYTES = HEADER_BYTES + CRC_BYTES;

  private RecordCodec() {}

  /** A decoded, CRC-checked frame. */
  public record Frame(int type, long durableThrough, byte[] payload) {}

  /** A frame that fails validation; {@code getMessage()} says which check. */
  public static final class InvalidFrameException extends Exception {
    private static final long serialVersionUID = 1L;

    InvalidFrameException(String message) {
      super(message);
    }
  }

  public static int frameLength(int payloadLength) {
    return OVERHEAD_BYTES + payloadLength;
  }

  public static byte[] encode(int type, long durableThrough, byte[] payload) {
    byte[] frame = new byte[frameLength(payload.length)];
    encodeInto(frame, type, durableThrough, payload);
    return frame;
  }

  /**
   * Encodes into the start of {@code dst} (at least {@link #frameLength} bytes), returning the
   * frame length. The writer thread reuses one buffer so a batch allocates no frames.
   */
  public static int encodeInto(byte[] dst, int type, long durableThrough, byte[] payload) {
    int length = frameLength(payload.length);
    if (dst.length < length) {
      throw new IllegalArgumentException(
          "buffer of " + dst.length + " bytes cannot hold a frame of " + length);
    }
    ByteBuffer buf = ByteBuffer.wrap(dst);
    buf.put(VERSION).putInt(type).putLong(durableThrough).putInt(payload.length).put(payload);
    CRC32C crc = new CRC32C();
    crc.update(dst, 0, buf.position());
    buf.putInt((int) crc.getValue());
    return length;
  }

  public static Frame decode(byte[] frame) throws InvalidFrameException {
    return decode(frame, 0, frame.length);
  }

  /** Validates everything (length, version, CRC) before trusting any field. */
  public static Frame decode(byte[] bytes, int offset, int length) throws InvalidFrameException {
    if (length < OVERHEAD_BYTES) {
      throw new InvalidFrameException("frame of " + length + " bytes is shorter than a header");
    }
    ByteBuffer buf = ByteBuffer.wrap(bytes, offset, length);
    byte version = buf.get();
    int type = buf.getInt();
    long durableThrough = buf.getLong();
    int payloadLength = buf.getInt();
    if (payloadLength < 0 || payloadLength != length - OVERHEAD_BYTES) {
      throw new InvalidFrameException(
          "payload length " + payloadLength + " does not match frame length " + length);
    }
    CRC32C crc = new CRC32C();
    crc.update(bytes, offset, length - CRC_BYTES);
    buf.position(offset + length - CRC_BYTES);
    int stored = buf.getInt();
    if (stored != (int) crc.getValue()) {
      throw new InvalidFrameException(
          String.format(
              "crc32c mismatch: stored %08x, computed %08x", stored, (int) crc.getValue()));
    }
    // Checked after the CRC: a wrong version with a good CRC is a format we do not know, a wrong
    // version with a bad CRC is just damage.
    if (version != VERSION) {
      throw new InvalidFrameException("unknown record version " + version);
    }
    byte[] payload = new byte[payloadLength];
    System.arraycopy(bytes, offset + HEADER_BYTES, payload, 0, payloadLength);
    return new Frame(type, durableThrough, payload);
  }
}
