package io.decree.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Chars;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.StringLength;

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

  /**
   * Near-misses of the text form (a prefix of a valid id followed by hex digits, dashes and other
   * characters) are accepted exactly when they match the grammar, and then parse to the same fields
   * as a regular-expression reference.
   */
  @Property(tries = 3_000)
  void parseAcceptsExactlyTheGrammar(
      @ForAll @IntRange(min = 0, max = 38) int keep,
      @ForAll @StringLength(max = 12) @Chars({'0', '7', 'a', 'f', 'g', 'A', '-', ' '})
          String tail) {
    String text = "018f2a3b4c5d-0000abcd-f0000000000000ff".substring(0, keep) + tail;
    Matcher m = Pattern.compile("([0-9a-f]{12})-([0-9a-f]{8})-([0-9a-f]{8,16})").matcher(text);
    if (!m.matches()) {
      assertThatThrownBy(() -> TxId.parse(text))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(
              text.isEmpty() ? "transaction id is missing" : "malformed transaction id");
      return;
    }
    long sequence = Long.parseUnsignedLong(m.group(3), 16);
    if (sequence < 0) {
      assertThatThrownBy(() -> TxId.parse(text)).hasMessageContaining("sequence must be >= 0");
      return;
    }
    assertThat(TxId.parse(text))
        .isEqualTo(
            new TxId(
                Long.parseLong(m.group(1), 16),
                Integer.parseUnsignedInt(m.group(2), 16),
                sequence));
  }

  @Property
  void malformedTextIsRefusedWithTheInputInTheMessage(@ForAll String text) {
    if (text.matches("[0-9a-f]{12}-[0-9a-f]{8}-[0-9a-f]{8,16}")) {
      return;
    }
    assertThatThrownBy(() -> TxId.parse(text)).isInstanceOf(IllegalArgumentException.class);
  }
}
