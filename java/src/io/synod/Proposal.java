package io.synod;

import java.util.Objects;

/**
 * One entry of a batch given to {@link RaftNode#replicateBatch}.
 *
 * @param type the host's entry type, 1 or more
 * @param data its bytes, copied when the batch is proposed
 */
public record Proposal(int type, byte[] data) {
  public Proposal {
    Objects.requireNonNull(data, "data");
  }
}
