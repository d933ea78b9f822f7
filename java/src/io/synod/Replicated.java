package io.synod;

/**
 * Where a proposal committed.
 *
 * @param index its position in the partition's log
 * @param term its term
 */
public record Replicated(long index, long term) {}
