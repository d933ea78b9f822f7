#include "write_rules.h"

#include <algorithm>
#include <string>

namespace synod::storage {
namespace {

StorageStatus refuse(PartitionId partition, const std::string& why) {
  return StorageStatus::invalid_argument("partition " + std::to_string(partition) + ": " + why);
}

std::string str(std::uint64_t v) { return std::to_string(v); }

}  // namespace

StorageStatus check_write(const LogBounds& before, const PartitionWrite& write, LogBounds& after) {
  const PartitionId p = write.partition;
  LogBounds next = before;

  if (write.snapshot) {
    const raft::SnapshotMeta& meta = write.snapshot->meta;
    if (meta.index == 0 || meta.term == 0) {
      return refuse(p, "snapshot needs a non-zero index and term");
    }
    // Raft installs a snapshot only beyond its commit index, which is never below what
    // was stored; an older snapshot here would throw committed entries away.
    const raft::Index floor = std::max(before.snapshot_index, before.hard_state.commit);
    if (meta.index <= floor) {
      return refuse(p, "snapshot at index " + str(meta.index) +
                           " is not above the stored snapshot and commit index " + str(floor));
    }
    next.snapshot_index = meta.index;
    next.first_index = meta.index + 1;
    next.last_index = meta.index;
  }

  if (!write.entries.empty()) {
    const raft::Index lo = write.entries.front().index;
    if (lo <= next.snapshot_index) {  // the compaction point never passes the snapshot
      return refuse(p, "entries start at index " + str(lo) + ", at or below the snapshot index " +
                           str(next.snapshot_index));
    }
    if (lo <= before.hard_state.commit) {
      return refuse(p, "entries start at index " + str(lo) +
                           ", which would rewrite the committed prefix through " +
                           str(before.hard_state.commit));
    }
    if (lo > next.last_index + 1) {
      return refuse(p, "entries start at index " + str(lo) +
                           ", leaving a gap after the last index " + str(next.last_index));
    }
    for (std::size_t i = 0; i < write.entries.size(); ++i) {
      const raft::Entry& e = write.entries[i];
      if (e.index != lo + i) {
        return refuse(p, "entry index " + str(e.index) + " follows index " + str(lo + i - 1) +
                             "; entries must be consecutive");
      }
      if (e.term == 0) return refuse(p, "entry " + str(e.index) + " has term 0");
      if (i > 0 && e.term < write.entries[i - 1].term) {
        return refuse(p, "entry " + str(e.index) + " has a lower term than the entry before it");
      }
    }
    next.last_index = write.entries.back().index;
  }

  if (write.hard_state) {
    const raft::HardState& hs = *write.hard_state;
    const raft::HardState& old = before.hard_state;
    if (hs.term < old.term) {
      return refuse(
          p, "hard state term " + str(hs.term) + " is below the stored term " + str(old.term));
    }
    if (hs.term == old.term && old.vote != raft::kNoNode && hs.vote != old.vote) {
      return refuse(p, "hard state changes the vote of term " + str(hs.term) + " from node " +
                           str(old.vote) + " to node " + str(hs.vote));
    }
    if (hs.commit > next.last_index) {
      return refuse(p, "hard state commit index " + str(hs.commit) + " is beyond the last index " +
                           str(next.last_index));
    }
    next.hard_state = hs;
  }

  if (write.applied_floor) {
    if (*write.applied_floor < before.applied_floor) {
      return refuse(p, "applied floor " + str(*write.applied_floor) +
                           " is below the stored floor " + str(before.applied_floor));
    }
    next.applied_floor = *write.applied_floor;
  }

  if (write.compact_through && *write.compact_through >= next.first_index) {
    const raft::Index c = *write.compact_through;
    if (c > next.snapshot_index) {
      return refuse(p, "cannot compact through index " + str(c) + ", beyond the snapshot index " +
                           str(next.snapshot_index));
    }
    next.first_index = c + 1;
  }

  after = next;
  return {};
}

StorageStatus check_snapshot_creation(PartitionId partition, const LogBounds& bounds,
                                      raft::Index index) {
  if (index <= bounds.snapshot_index) {
    return refuse(partition, "snapshot at index " + str(index) +
                                 " is not above the stored snapshot at " +
                                 str(bounds.snapshot_index));
  }
  if (index < bounds.first_index || index > bounds.last_index) {
    return refuse(partition, "snapshot index " + str(index) + " is outside the stored log [" +
                                 str(bounds.first_index) + ", " + str(bounds.last_index) + "]");
  }
  // A snapshot holds applied, hence committed, state only.
  if (index > bounds.hard_state.commit) {
    return refuse(partition, "snapshot index " + str(index) + " is above the commit index " +
                                 str(bounds.hard_state.commit));
  }
  return {};
}

}  // namespace synod::storage
