// The partitions this node runs, published copy-on-write: a change builds a new map and
// swaps it in, so a reader takes one reference to the current map (or to one partition)
// and works with it while partitions are added and removed. Every request looks its
// partition up here, from many threads at once: readers share the lock and never wait
// for each other, only for a change.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "partition.h"

namespace synod::node {

class PartitionTable {
 public:
  using Map = std::map<PartitionId, PartitionPtr>;

  // The partition, or null when this node does not run it.
  PartitionPtr find(PartitionId id) const;
  // Every running partition, ordered by id.
  std::shared_ptr<const Map> snapshot() const;
  // The status for a request to a partition this node does not run: StorageFailure for
  // one whose stored state is damaged, UnknownPartition otherwise.
  Status missing(PartitionId id) const;

  // False when the id is already taken (running or damaged).
  bool add(PartitionPtr partition);
  // Unpublishes the partition and returns it; null when it does not run here.
  PartitionPtr remove(PartitionId id);

  // Stored partitions not run because the store found their state damaged, with why.
  void add_damaged(PartitionId id, std::string why);
  bool remove_damaged(PartitionId id);
  std::map<PartitionId, std::string> damaged() const;

 private:
  mutable std::shared_mutex mu_;
  std::shared_ptr<const Map> map_ = std::make_shared<const Map>();
  std::map<PartitionId, std::string> damaged_;
};

}  // namespace synod::node
