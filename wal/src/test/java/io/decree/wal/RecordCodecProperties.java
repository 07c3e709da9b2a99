package io.decree.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

class RecordCodecProperties {
  @Property
  void everyFrameRoundTrips(
      @ForAll int type, @ForAll long durableThrough, @ForAll @Size(max = 2048) byte[] payload)
      throws Exception {
    byte[] frame = RecordCodec.encode(type, durableThrough, payload);
    assertThat(frame).hasSize(RecordCodec.frameLength(payload.length));
    RecordCodec.Frame decoded = RecordCodec.decode(frame);
    assertThat(decoded.type()).isEqualTo(type);
    assertThat(decoded.durableThrough()).isEqualTo(durableThrough);
    assertThat(decoded.payload()).isEqualTo(payload);
  }

  @Property
  void anySingleBitFlipIsDetected(
      @ForAll int type,
      @ForAll @Size(max = 512) byte[] payload,
      @ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) int where,
      @ForAll @IntRange(min = 0, max = 7) int bit) {
    byte[] frame = RecordCodec.encode(type, 42, payload);
    frame[where % frame.length] ^= (byte) (1 << bit);
    assertThatThrownBy(() -> RecordCodec.decode(frame))
        .isInstanceOf(RecordCodec.InvalidFrameException.class);
  }

  @Property
  void anyTruncationIsDetected(
      @ForAll @Size(max = 512) byte[] payload,
      @ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) int cut) {
    byte[] frame = RecordCodec.encode(1, 2, payload);
    byte[] torn = Arrays.copyOf(frame, cut % frame.length);
    assertThatThrownBy(() -> RecordCodec.decode(torn))
        .isInstanceOf(RecordCodec.InvalidFrameException.class);
  }

  @Property
  void decodingArbitraryBytesNeverThrowsAnythingElse(@ForAll @Size(max = 256) byte[] junk) {
    try {
      RecordCodec.decode(junk);
    } catch (RecordCodec.InvalidFrameException expected) {
      // Rejection is the normal outcome; anything else (an index error, say) fails the property.
    }
  }
}
