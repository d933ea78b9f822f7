package io.synod;

/**
 * A committed entry, delivered on every node in log order per partition.
 *
 * @param partition the partition (1..userPartitions)
 * @param index its position in the partition's log
 * @param term the Raft term it was proposed in
 * @param type the host's entry type given to {@link RaftNode#replicate} (1 or more)
 * @param data its bytes: a copy the listener owns
 */
public record Entry(long partition, long index, long term, int type, byte[] data) {}
