#include "synod/system/fencing.h"

namespace synod::system {

FenceResult fence(const PartitionMap& map, PartitionId partition, Generation carried) {
  if (partition == kSystemPartition) return {FenceVerdict::Accept, 0};
  const auto it = map.partitions.find(partition);
  if (it == map.partitions.end()) return {FenceVerdict::UnknownPartition, 0};
  const Partition& p = it->second;
  switch (p.state) {
    case PartitionState::Removed:
      return {FenceVerdict::Removed, p.generation};
    case PartitionState::Draining:
    case PartitionState::Splitting:
      return {FenceVerdict::NotServing, p.generation};
    case PartitionState::Active:
      break;
  }
  if (carried != 0 && carried != p.generation) {
    return {FenceVerdict::StaleGeneration, p.generation};
  }
  return {FenceVerdict::Accept, p.generation};
}

const char* to_string(FenceVerdict verdict) {
  switch (verdict) {
    case FenceVerdict::Accept:
      return "accept";
    case FenceVerdict::StaleGeneration:
      return "stale generation";
    case FenceVerdict::NotServing:
      return "not serving";
    case FenceVerdict::Removed:
      return "removed";
    case FenceVerdict::UnknownPartition:
      return "unknown partition";
  }
  return "?";
}

}  // namespace synod::system
