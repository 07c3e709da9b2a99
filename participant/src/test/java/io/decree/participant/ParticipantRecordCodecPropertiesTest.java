package io.decree.participant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decree.core.Decision;
import io.decree.core.ParticipantRef;
import io.decree.core.TxId;
import io.decree.core.participant.ParticipantRecord;
import io.decree.core.participant.ParticipantRecord.CompletedRecord;
import io.decree.core.participant.ParticipantRecord.DecisionRecord;
import io.decree.core.participant.ParticipantRecord.PreparedRecord;
import java.util.Arrays;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

class ParticipantRecordCodecPropertiesTest {

  @Property
  void everyRecordRoundTrips(@ForAll("records") ParticipantRecord record) {
    byte[] bytes = ParticipantRecordCodec.encode(record);
    ParticipantRecord decoded =
        ParticipantRecordCodec.decode(ParticipantRecordCodec.type(record), bytes);
    assertSame(decoded, record);
  }

  @Property(tries = 200)
  void aCheckpointRoundTripsWithItsHorizonAndRecordsInOrder(
      @ForAll("recordLists") java.util.List<ParticipantRecord> records,
      @ForAll @net.jqwik.api.constraints.LongRange(min = 0) long horizon) {
    byte[] bytes =
        ParticipantRecordCodec.encodeCheckpoint(
            new io.decree.core.participant.ParticipantCheckpoint(horizon, records));
    var decoded = ParticipantRecordCodec.decodeCheckpoint(bytes);
    assertThat(decoded.forgottenBeforeMillis()).isEqualTo(horizon);
    assertThat(decoded.records()).hasSameSizeAs(records);
    for (int i = 0; i < records.size(); i++) {
      assertSame(decoded.records().get(i), records.get(i));
    }
    byte[] truncated = Arrays.copyOf(bytes, bytes.length - 1);
    assertThatThrownBy(() -> ParticipantRecordCodec.decodeCheckpoint(truncated))
        .isInstanceOf(IllegalStateException.class);
  }

  @Property
  void truncatedPayloadsNeverDecodeToSomethingElse(
      @ForAll("records") ParticipantRecord record, @ForAll @IntRange(min = 1, max = 64) int cut) {
    byte[] bytes = ParticipantRecordCodec.encode(record);
    byte[] truncated = Arrays.copyOf(bytes, Math.max(0, bytes.length - cut));
    assertThatThrownBy(
            () -> ParticipantRecordCodec.decode(ParticipantRecordCodec.type(record), truncated))
        .isInstanceOf(IllegalStateException.class);
  }

  @Property(tries = 20)
  void unknownVersionIsRefused(@ForAll("records") ParticipantRecord record) {
    byte[] bytes = ParticipantRecordCodec.encode(record);
    bytes[0] = 9;
    assertThatThrownBy(
            () -> ParticipantRecordCodec.decode(ParticipantRecordCodec.type(record), bytes))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("version 9");
  }

  private static void assertSame(ParticipantRecord decoded, ParticipantRecord record) {
    assertThat(decoded.getClass()).isEqualTo(record.getClass());
    assertThat(decoded.txId()).isEqualTo(record.txId());
    if (record instanceof PreparedRecord p) {
      PreparedRecord d = (PreparedRecord) decoded;
      assertThat(d.participants()).isEqualTo(p.participants());
      assertThat(d.branchData()).isEqualTo(p.branchData());
      assertThat(d.preparedAtMillis()).isEqualTo(p.preparedAtMillis());
    } else if (record instanceof DecisionRecord r) {
      DecisionRecord d = (DecisionRecord) decoded;
      assertThat(d.decision()).isEqualTo(r.decision());
      assertThat(d.onePhase()).isEqualTo(r.onePhase());
      assertThat(d.branchData()).isEqualTo(r.branchData());
      assertThat(d.decidedAtMillis()).isEqualTo(r.decidedAtMillis());
    } else {
      assertThat(decoded).isEqualTo(record); // Completed and Heuristic records have no arrays
    }
  }

  @Provide
  Arbitrary<java.util.List<ParticipantRecord>> recordLists() {
    return records().list().ofMaxSize(20);
  }

  @Provide
  Arbitrary<ParticipantRecord> records() {
    Arbitrary<TxId> txIds =
        Combinators.combine(
                Arbitraries.longs().between(0, 0xFFFF_FFFF_FFFFL),
                Arbitraries.integers(),
                Arbitraries.longs().greaterOrEqual(0))
            .as(TxId::new);
    Arbitrary<ParticipantRef> refs =
        Combinators.combine(
                Arbitraries.strings().ofMinLength(1).ofMaxLength(40).filter(s -> !s.isBlank()),
                Arbitraries.strings().ofMaxLength(60))
            .as(ParticipantRef::new);
    Arbitrary<byte[]> data = Arbitraries.bytes().array(byte[].class).ofMaxSize(300);
    Arbitrary<Decision> decisions = Arbitraries.of(Decision.class);
    Arbitrary<ParticipantRecord> prepared =
        Combinators.combine(txIds, refs.list().ofMaxSize(5), data, Arbitraries.longs())
            .as(PreparedRecord::new);
    Arbitrary<ParticipantRecord> decided =
        Combinators.combine(
                txIds, decisions, Arbitraries.of(true, false), data, Arbitraries.longs())
            .as(DecisionRecord::new);
    Arbitrary<ParticipantRecord> completed =
        Combinators.combine(txIds, decisions).as(CompletedRecord::new);
    Arbitrary<ParticipantRecord> heuristic =
        Combinators.combine(
                txIds,
                decisions,
                Arbitraries.strings().ofMinLength(1).ofMaxLength(200).filter(s -> !s.isBlank()),
                Arbitraries.longs())
            .as(ParticipantRecord.HeuristicRecord::new);
    return Arbitraries.oneOf(prepared, decided, completed, heuristic);
  }
}
