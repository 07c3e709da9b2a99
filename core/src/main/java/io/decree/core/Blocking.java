package io.decree.core;

import java.util.List;

/**
 * Why a transaction cannot finish yet, reported instead of a guess.
 *
 * @param state the reporter's state for it (e.g. PREPARED, COMMITTING)
 * @param sinceMillis when it entered that state
 * @param waitingFor what would unblock it, for a person to read
 * @param contacts last contact with each party it depends on
 * @param retries attempts so far
 * @param nextRetryMillis when the next attempt is due (0: none scheduled)
 */
public record Blocking(
    TxId txId,
    String state,
    long sinceMillis,
    String waitingFor,
    List<Contact> contacts,
    int retries,
    long nextRetryMillis) {
  public Blocking {
    contacts = List.copyOf(contacts);
  }

  /**
   * The last exchange with one party.
   *
   * @param lastSuccessMillis 0 if it never answered
   */
  public record Contact(
      String party, long lastSuccessMillis, long lastAttemptMillis, String lastError) {}
}
