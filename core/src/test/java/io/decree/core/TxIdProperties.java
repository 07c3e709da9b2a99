package io.decree.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;

/** The text form round-trips, and sorts as text in the same order as the ids. */
class TxIdProperties {
  @Property
  void textRoundTrips(
      @ForAll @LongRange(min = 0, max = 0xFFFF_FFFF_FFFFL) long created,
      @ForAll int issuer,
      @ForAll @LongRange(min = 0) long sequence) {
    TxId id = new TxId(created, issuer, sequence);
    assertThat(TxId.parse(id.toString())).isEqualTo(id);
  }

  @Property
  void textOrderIsIdOrderForFixedWidthSequences(
      @ForAll @LongRange(min = 0, max = 0xFFFF_FFFF_FFFFL) long createdA,
      @ForAll @LongRange(min = 0, max = 0xFFFF_FFFF_FFFFL) long createdB,
      @ForAll @LongRange(min = 0, max = 0xFFFF_FFFFL) long seqA,
      @ForAll @LongRange(min = 0, max = 0xFFFF_FFFFL) long seqB) {
    TxId a = new TxId(createdA, 7, seqA);
    TxId b = new TxId(createdB, 7, seqB);
    assertThat(Integer.signum(a.toString().compareTo(b.toString())))
        .isEqualTo(Integer.signum(a.compareTo(b)));
  }

  @Property
  void malformedTextIsRefusedWithTheInputInTheMessage(@ForAll String text) {
    if (text.matches("[0-9a-f]{12}-[0-9a-f]{8}-[0-9a-f]{8,16}")) {
      return;
    }
    assertThatThrownBy(() -> TxId.parse(text)).isInstanceOf(IllegalArgumentException.class);
  }
}
