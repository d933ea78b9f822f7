#include "synod/storage/log_store.h"

#include "synod/raft/conf_change.h"

namespace synod::storage {

bool PartitionWrite::empty() const {
  return !hard_state && !snapshot && entries.empty() && !applied_floor && !compact_through;
}

PartitionWrite bootstrap_write(PartitionId partition, const std::vector<raft::NodeId>& voters,
                               const std::vector<raft::NodeId>& learners) {
  PartitionWrite write;
  write.partition = partition;
  write.entries.push_back(raft::make_bootstrap_entry(voters, learners));
  write.hard_state = raft::HardState{1, raft::kNoNode, 1};
  return write;
}

PartitionWrite& WriteBatch::add(PartitionId partition) {
  PartitionWrite& write = writes_.emplace_back();
  write.partition = partition;
  return write;
}

PartitionWrite& WriteBatch::add(PartitionWrite write) {
  return writes_.emplace_back(std::move(write));
}

std::size_t WriteBatch::entry_count() const {
  std::size_t n = 0;
  for (const PartitionWrite& w : writes_) n += w.entries.size();
  return n;
}

StorageStatus LogStore::partition_error(PartitionId) const { return {}; }

void LogStore::count_write(const WriteBatch& batch, bool synced) {
  if (!batch.empty()) {
    batches_.fetch_add(1, std::memory_order_relaxed);
    std::size_t entries = 0;
    std::size_t bytes = 0;
    for (const PartitionWrite& w : batch.writes()) {
      entries += w.entries.size();
      for (const raft::Entry& e : w.entries) bytes += e.data.size();
    }
    entries_written_.fetch_add(entries, std::memory_order_relaxed);
    entry_bytes_written_.fetch_add(bytes, std::memory_order_relaxed);
  }
  if (synced) count_sync();
}

}  // namespace synod::storage
