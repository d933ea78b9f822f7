// The rules every LogStore applies to writes (documented on PartitionWrite and
// LogStore::create_snapshot). Stores check a whole batch with these before changing
// anything, so all stores accept and refuse exactly the same writes.
#pragma once

#include "synod/raft/types.h"
#include "synod/storage/log_store.h"
#include "synod/storage/status.h"

namespace synod::storage {

// The part of a partition's stored state that the rules look at.
struct LogBounds {
  raft::Index first_index = 1;
  raft::Index last_index = 0;
  raft::Index snapshot_index = 0;
  raft::HardState hard_state;
  raft::Index applied_floor = 0;
};

// Checks `write` against a partition in state `before`. On success sets `after` to the
// state once the write is applied (so a later write of the same batch is checked against
// it); on failure returns InvalidArgument naming the partition and leaves `after` alone.
StorageStatus check_write(const LogBounds& before, const PartitionWrite& write, LogBounds& after);

// Checks a create_snapshot(partition, index, ...) request against the partition's state.
StorageStatus check_snapshot_creation(PartitionId partition, const LogBounds& bounds,
                                      raft::Index index);

}  // namespace synod::storage
