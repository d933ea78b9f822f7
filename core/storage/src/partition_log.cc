#include "partition_log.h"

namespace synod::storage {

LogBounds PartitionLog::bounds() const {
  return {first_index(), last_index(), snapshot.meta.index, hard_state, applied_floor};
}

void PartitionLog::apply(const PartitionWrite& write) {
  if (write.snapshot) {
    snapshot = *write.snapshot;
    compacted_index = snapshot.meta.index;
    compacted_term = snapshot.meta.term;
    entries.clear();
  }
  if (!write.entries.empty()) {
    // The rules guarantee first_index() <= front().index <= last_index() + 1.
    const raft::Index keep = write.entries.front().index - first_index();
    entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(keep), entries.end());
    entries.insert(entries.end(), write.entries.begin(), write.entries.end());
  }
  if (write.hard_state) hard_state = *write.hard_state;
  if (write.applied_floor) applied_floor = *write.applied_floor;
  if (write.compact_through && *write.compact_through > compacted_index) {
    const raft::Index drop = *write.compact_through - compacted_index;
    compacted_term = entries[drop - 1].term;
    entries.erase(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(drop));
    compacted_index = *write.compact_through;
  }
}

void PartitionLog::record_snapshot(raft::Index index, const raft::ConfState& conf,
                                   raft::Bytes data) {
  snapshot.meta = {index, entries[index - first_index()].term, conf};
  snapshot.data = std::move(data);
}

raft::StorageError PartitionLog::read_entries(raft::Index lo, raft::Index hi, std::size_t max_bytes,
                                              std::vector<raft::Entry>& out) const {
  if (lo < first_index()) return raft::StorageError::Compacted;
  if (hi > last_index() + 1) return raft::StorageError::Unavailable;
  std::size_t bytes = 0;
  for (raft::Index i = lo; i < hi; ++i) {
    const raft::Entry& e = entries[i - first_index()];
    if (i != lo && bytes + e.byte_size() > max_bytes) break;
    bytes += e.byte_size();
    out.push_back(e);
  }
  return raft::StorageError::None;
}

raft::StorageError PartitionLog::read_term(raft::Index index, raft::Term& out) const {
  if (index == compacted_index) {
    out = compacted_term;
    return raft::StorageError::None;
  }
  if (index < compacted_index) return raft::StorageError::Compacted;
  if (index > last_index()) return raft::StorageError::Unavailable;
  out = entries[index - first_index()].term;
  return raft::StorageError::None;
}

}  // namespace synod::storage
