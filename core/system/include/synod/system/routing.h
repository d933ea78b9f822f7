// Key routing: key bytes -> 64-bit hash -> the partition owning that hash.
//
// The hash is XXH64 with seed 0 (the xxHash family's 64-bit function), specified with
// test vectors in bindings/ROUTING.md and bindings/routing_vectors.json, so that every
// binding routes a key to the same partition.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "synod/system/types.h"

namespace synod::system {

// XXH64(key, seed 0).
std::uint64_t key_hash(std::string_view key);

// The range of the i-th of n partitions (0 <= i < n) that bootstrap creates: the hash
// space cut into n nearly equal ranges, [floor(i * 2^64 / n), floor((i + 1) * 2^64 / n) - 1].
HashRange bootstrap_range(std::uint32_t i, std::uint32_t n);

// Where a key goes, and the generation to carry with a proposal for it (fencing.h).
struct Route {
  PartitionId partition = 0;
  Generation generation = 0;
  // Active, or Draining: a draining partition still owns its keys but refuses proposals
  // until its merge finishes, and the caller retries.
  PartitionState state = PartitionState::Active;
  friend bool operator==(const Route&, const Route&) = default;
};

// A lookup table over one version of the map: build it once per map version, then route
// in O(log n).
class Router {
 public:
  explicit Router(const PartitionMap& map);

  // The partition owning `hash`, or nothing when no partition owns it (a map bootstrapped
  // with no hash-range partition, or a gap left between created ranges).
  std::optional<Route> route_hash(std::uint64_t hash) const;
  std::optional<Route> route(std::string_view key) const { return route_hash(key_hash(key)); }
  Version map_version() const { return version_; }

 private:
  struct Slot {
    HashRange range;
    Route route;
  };
  std::vector<Slot> slots_;  // by range.lo; ranges never overlap
  Version version_ = 0;
};

}  // namespace synod::system
