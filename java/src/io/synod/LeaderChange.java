package io.synod;

import java.util.OptionalLong;

/**
 * The leader of a partition changed, as this node learned it.
 *
 * @param partition the partition
 * @param leaderId the new leader, 0 when leadership was lost and none is known yet
 * @param term the term of the change
 */
public record LeaderChange(long partition, long leaderId, long term) {
  /** The new leader, empty while none is known. */
  public OptionalLong leader() {
    return leaderId == 0 ? OptionalLong.empty() : OptionalLong.of(leaderId);
  }
}
