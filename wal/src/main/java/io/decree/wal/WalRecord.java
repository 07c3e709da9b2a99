package io.decree.wal;

/**
 * One durable record as replay hands it out. {@code payload} is owned by the receiver (a fresh copy
 * per record).
 */
public record WalRecord(long position, int type, byte[] payload) {}
