package io.synod;

import java.util.Objects;

/**
 * One entry of a batch given to {@link RaftNode#replicateBatch}.
 *
 * @param type the entry's log type
 * @param data its bytes, copied when the batch is proposed
 */
public record Proposal(LogType type, byte[] data) {
  public Proposal {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(data, "data");
  }

  /** An entry of string type `type` (see {@link LogType#of(String)}). */
  public Proposal(String type, byte[] data) {
    this(LogType.of(type), data);
  }

  /** An entry of number type `type` (see {@link LogType#of(long)}). */
  public Proposal(long type, byte[] data) {
    this(LogType.of(type), data);
  }
}
