package io.decree.participant.kv;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

class KvCodecPropertiesTest {

  @Property
  void writeSetsRoundTrip(
      @ForAll("strings") String txId, @ForAll("writeSets") SortedMap<String, Long> writes)
      throws Exception {
    KvCodec.WriteSet decoded = KvCodec.decodeWriteSet(KvCodec.encodeWriteSet(txId, writes));

    assertThat(decoded.txId()).isEqualTo(txId);
    assertThat(decoded.writes()).isEqualTo(writes);
  }

  @Property
  void snapshotsRoundTripThroughAnyChunkSize(
      @ForAll("writeSets") SortedMap<String, Long> values,
      @ForAll("writeSets") SortedMap<String, Long> applied,
      @ForAll @IntRange(min = KvCodec.SNAPSHOT_CHUNK_HEADER_BYTES + 1, max = 300) int recordBytes)
      throws Exception {
    byte[] state = KvCodec.encodeState(values, new ArrayList<>(applied.entrySet()));
    List<byte[]> chunks = KvCodec.encodeSnapshotChunks(42, state, recordBytes);
    java.io.ByteArrayOutputStream joined = new java.io.ByteArrayOutputStream();
    for (int i = 0; i < chunks.size(); i++) {
      assertThat(chunks.get(i).length).isLessThanOrEqualTo(recordBytes);
      KvCodec.SnapshotChunk c = KvCodec.decodeSnapshotChunk(chunks.get(i));
      assertThat(c.snapshotSeq()).isEqualTo(42);
      assertThat(c.index()).isEqualTo(i);
      assertThat(c.count()).isEqualTo(chunks.size());
      joined.writeBytes(c.bytes());
    }
    KvCodec.State decoded = KvCodec.decodeState(joined.toByteArray());

    assertThat(decoded.values()).isEqualTo(values);
    assertThat(decoded.appliedTxIds()).containsExactlyEntriesOf(applied);
  }

  @Property
  void garbageIsRejectedNeverMisread(@ForAll byte[] garbage) {
    try {
      KvCodec.WriteSet ws = KvCodec.decodeWriteSet(garbage);
      // Only bytes that are a real encoding decode; they must re-encode to themselves.
      assertThat(KvCodec.encodeWriteSet(ws.txId(), ws.writes())).isEqualTo(garbage);
    } catch (KvCodec.MalformedException expected) {
      // fine
    }
  }

  @Provide
  Arbitrary<String> strings() {
    return Arbitraries.strings()
        .withCharRange((char) 0, (char) 0xD7FF)
        .ofMinLength(1)
        .ofMaxLength(40);
  }

  @Provide
  Arbitrary<SortedMap<String, Long>> writeSets() {
    return Arbitraries.maps(strings(), Arbitraries.longs())
        .ofMaxSize(20)
        .map(m -> (SortedMap<String, Long>) new TreeMap<>(m));
  }
}
