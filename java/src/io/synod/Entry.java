package io.synod;

/**
 * A committed entry, delivered on every node in log order per partition.
 *
 * @param partition the partition (1..userPartitions)
 * @param index its position in the partition's log
 * @param term the Raft term it was proposed in
 * @param type its log type, a number or a string, as whichever binding wrote it gave it
 * @param data its bytes, without the type: a copy the listener owns
 */
public record Entry(long partition, long index, long term, LogType type, byte[] data) {}
