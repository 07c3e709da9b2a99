package io.decree.core;

/** An effect: deliver {@code message} to {@code to}. Safe to send as soon as it is emitted. */
public record Send(Peer to, Message message) {}
