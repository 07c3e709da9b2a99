/** Jepsen-style fault-injection suite: real processes, nemeses, a recorded history, checkers. */
package io.decree.jepsen;
