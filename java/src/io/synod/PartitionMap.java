package io.synod;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The partition map as a node has applied it (committed, possibly behind the leader of
 * partition 0): its version, the id the next created partition gets, and every partition
 * ever created, removed ones included, ordered by id. Ids, ranges and generations are
 * unsigned 64-bit values in a long.
 *
 * @param version the map's version
 * @param nextId the id the next created partition gets
 * @param partitions every partition, by id
 */
public record PartitionMap(long version, long nextId, List<Partition> partitions) {
  /** How a partition is addressed. */
  public enum Mode {
    /** Addressed by id only; owns no keys. */
    UNROUTED,
    /** Owns the key hashes in [lo, hi]. */
    HASH_RANGE
  }

  /** A partition's state in the map. */
  public enum State {
    ACTIVE,
    SPLITTING,
    DRAINING,
    REMOVED
  }

  /**
   * One partition. `lo` and `hi` are 0 for unrouted partitions; `peer` is the other
   * partition of a split or merge under way, else 0.
   */
  public record Partition(long id, State state, Mode mode, long lo, long hi, long generation,
                          long peer) {}

  /** The partition `id`, if the map holds it. */
  public Optional<Partition> find(long id) {
    return partitions.stream().filter(p -> p.id() == id).findFirst();
  }

  @SuppressWarnings("unchecked")
  static PartitionMap parse(String json) {
    Map<String, Object> root = (Map<String, Object>) JsonReader.parse(json);
    List<Partition> partitions = new ArrayList<>();
    for (Object o : JsonReader.list(root.get("partitions"))) {
      Map<String, Object> p = (Map<String, Object>) o;
      partitions.add(new Partition(
          (Long) p.get("id"),
          State.valueOf(((String) p.get("state")).toUpperCase(java.util.Locale.ROOT)),
          "hash_range".equals(p.get("mode")) ? Mode.HASH_RANGE : Mode.UNROUTED,
          (Long) p.get("lo"), (Long) p.get("hi"), (Long) p.get("generation"),
          (Long) p.get("peer")));
    }
    return new PartitionMap((Long) root.get("version"), (Long) root.get("next_id"),
                            List.copyOf(partitions));
  }
}
