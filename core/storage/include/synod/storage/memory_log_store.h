// MemoryLogStore: the LogStore kept in memory, for tests, the simulator and benchmarks.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "synod/storage/log_store.h"

namespace synod::storage {

// Models a disk with a volatile write cache. A write with sync=false lands in the cache:
// readers see it at once (as they would see a file through the OS page cache) but crash()
// loses it. A write with sync=true, sync(), create_snapshot() and remove_partition() make
// everything written so far durable, and crash() keeps that. There is no directory, so a
// "restart" is crash() on the same object.
class MemoryLogStore final : public LogStore {
 public:
  MemoryLogStore();
  ~MemoryLogStore() override;

  StorageStatus write(const WriteBatch& batch, bool sync) override;
  std::shared_ptr<raft::LogStorage> open_partition(PartitionId partition) override;
  std::vector<PartitionId> partitions() const override;
  raft::Index applied_floor(PartitionId partition) const override;
  StorageStatus create_snapshot(PartitionId partition, raft::Index index,
                                const raft::ConfState& conf, raft::Bytes data) override;
  StorageStatus remove_partition(PartitionId partition) override;

  // Power failure and restart: drops every write made since the last sync. Views opened
  // earlier then show the durable state; RawNodes built over them are ahead of it and
  // must be discarded, as a restarted process would.
  void crash();
  // Partition writes accepted since the last sync: what crash() would lose.
  std::size_t unsynced_writes() const;

 private:
  struct State;
  class View;
  std::shared_ptr<State> state_;
};

}  // namespace synod::storage
