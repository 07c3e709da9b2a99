package io.decree.core;

/**
 * A participant as the protocol knows it.
 *
 * @param name stable identity of the participant service, unique within a transaction
 * @param address where its participant endpoint listens (host:port); opaque to the core
 */
public record ParticipantRef(String name, String address) implements Peer {
  public static final int MAX_NAME_LENGTH = 128;
  public static final int MAX_ADDRESS_LENGTH = 256;

  public ParticipantRef {
    if (name == null || name.isBlank() || name.length() > MAX_NAME_LENGTH) {
      throw new IllegalArgumentException(
          "participant name must be 1.." + MAX_NAME_LENGTH + " characters, got '" + name + "'");
    }
    if (address == null || address.length() > MAX_ADDRESS_LENGTH) {
      throw new IllegalArgumentException(
          "participant address must be at most " + MAX_ADDRESS_LENGTH + " characters");
    }
  }

  @Override
  public String toString() {
    return name;
  }
}
