package io.synod;

/**
 * Where a key goes (bindings/ROUTING.md).
 *
 * @param partition the partition that owns the key's hash
 * @param generation the generation to carry with a proposal
 * @param state ACTIVE or DRAINING (a draining partition refuses proposals until its merge
 *     finishes)
 */
public record Route(long partition, long generation, PartitionMap.State state) {}
