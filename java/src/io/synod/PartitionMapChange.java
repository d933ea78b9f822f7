package io.synod;

/**
 * A change of the partition map, applied.
 *
 * @param partition the partition created (or removed)
 * @param mapVersion the map version after the change
 * @param index the change's index in the log of partition 0
 */
public record PartitionMapChange(long partition, long mapVersion, long index) {}
