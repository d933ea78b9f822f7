// PartitionLog: one partition's stored state held in memory, with the LogStorage reads.
//
// The memory store keeps two of these per partition (what readers see and what survived
// the last sync) and restores a crash by copying one over the other.
// raft::MemoryLogStorage is not used for that: it cannot be copied, and it cannot be put
// back into an arbitrary state (say, a compaction point below its snapshot).
#pragma once

#include <cstddef>
#include <deque>
#include <vector>

#include "synod/raft/storage.h"
#include "synod/raft/types.h"
#include "synod/storage/log_store.h"
#include "write_rules.h"

namespace synod::storage {

struct PartitionLog {
  raft::HardState hard_state;
  raft::Snapshot snapshot;
  // Entries at and below compacted_index are gone; compacted_term is the term there.
  raft::Index compacted_index = 0;
  raft::Term compacted_term = 0;
  // entries[i] holds index compacted_index + 1 + i.
  std::deque<raft::Entry> entries;
  raft::Index applied_floor = 0;

  raft::Index first_index() const { return compacted_index + 1; }
  raft::Index last_index() const { return compacted_index + entries.size(); }
  LogBounds bounds() const;

  // Applies a write that check_write() accepted.
  void apply(const PartitionWrite& write);
  // Records a snapshot that check_snapshot_creation() accepted.
  void record_snapshot(raft::Index index, const raft::ConfState& conf, raft::Bytes data);

  // raft::LogStorage::entries() and term() over this state.
  raft::StorageError read_entries(raft::Index lo, raft::Index hi, std::size_t max_bytes,
                                  std::vector<raft::Entry>& out) const;
  raft::StorageError read_term(raft::Index index, raft::Term& out) const;
};

}  // namespace synod::storage
