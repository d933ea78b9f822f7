// Generation fencing: whether a proposal to a user partition may take effect.
//
// A caller routes a key with one version of the map (routing.h) and carries the
// partition's generation with its proposal. The runtime decides when the entry is
// applied, with the map as of that entry, identically on every replica: an entry
// prepared before a split or merge touched its partition is committed but skipped, and
// its proposer is told the current generation so it refreshes its routing and retries.
#pragma once

#include "synod/system/types.h"

namespace synod::system {

enum class FenceVerdict : std::uint8_t {
  Accept = 0,
  // The proposal carried an older (or newer) generation than the partition's.
  StaleGeneration,
  // The partition exists but takes no proposals: the draining source of a merge, or the
  // new partition of a split that has not completed. Reported to the proposer like
  // StaleGeneration (with the current generation): it retries after refreshing.
  NotServing,
  // The partition was removed.
  Removed,
  // No such user partition in the map.
  UnknownPartition,
};
const char* to_string(FenceVerdict verdict);

struct FenceResult {
  FenceVerdict verdict = FenceVerdict::Accept;
  // The partition's generation (0 for an unknown partition).
  Generation current = 0;
  friend bool operator==(const FenceResult&, const FenceResult&) = default;
};

// `carried` is the generation the proposal was routed with, or 0 when the caller
// addressed the partition without one (then only the partition's state is checked).
// Proposals to the system partition are never fenced.
FenceResult fence(const PartitionMap& map, PartitionId partition, Generation carried);

}  // namespace synod::system
