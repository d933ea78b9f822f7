// The read side of a Raft group's durable log, as the state machine sees it.
//
// The runtime owns persistence: it writes what a Ready asks for and then calls
// RawNode::advance(). The core only reads back through this interface (entries to send
// to followers, terms for log matching, the latest snapshot). MemoryLogStorage is the
// in-memory implementation used by tests, the simulator and benchmarks.
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

#include "synod/raft/types.h"

namespace synod::raft {

enum class StorageError {
  None,
  // The requested index is below the first available index (compacted into a snapshot).
  Compacted,
  // The requested index is above the last index.
  Unavailable,
  // No snapshot can be produced right now; the leader retries later.
  SnapshotTemporarilyUnavailable,
};

class LogStorage {
 public:
  virtual ~LogStorage() = default;

  // Hard state recorded before the last restart.
  virtual HardState hard_state() const = 0;
  // Metadata of the latest snapshot. Its configuration is the base; configuration entries
  // after it are found by scanning the log. The log may keep entries at and below it
  // (compaction never passes it), so first_index() <= snapshot_meta().index + 1.
  virtual SnapshotMeta snapshot_meta() const = 0;
  // Appends entries [lo, hi) to `out`, stopping before more than `max_bytes` would be
  // returned (at least one entry is always returned when lo < hi).
  virtual StorageError entries(Index lo, Index hi, std::size_t max_bytes,
                               std::vector<Entry>& out) const = 0;
  // Term of the entry at `index`; first_index() - 1 and the snapshot's index are valid.
  virtual StorageError term(Index index, Term& out) const = 0;
  // Index of the first entry still in the log.
  virtual Index first_index() const = 0;
  // Index of the last entry (first_index() - 1 when the log is empty).
  virtual Index last_index() const = 0;
  // The latest snapshot, for sending to a follower behind the compacted prefix.
  virtual StorageError snapshot(Snapshot& out) const = 0;
  // Appends the ConfChange entries with lo <= index < hi to `out` and returns true, when
  // the storage can find them without reading the whole range; false otherwise (the
  // default), and the core scans the range itself. Used once, when a member starts.
  virtual bool conf_entries(Index lo, Index hi, std::vector<Entry>& out) const;
};

// A thread-safe in-memory LogStorage. Writes are immediate; the owner decides when they
// "became durable" by when it calls RawNode::advance().
class MemoryLogStorage final : public LogStorage {
 public:
  MemoryLogStorage() = default;
  // Makes this a founding member's storage: the bootstrap entry and its hard state.
  void bootstrap(const std::vector<NodeId>& voters, const std::vector<NodeId>& learners = {});

  HardState hard_state() const override;
  SnapshotMeta snapshot_meta() const override;
  StorageError entries(Index lo, Index hi, std::size_t max_bytes,
                       std::vector<Entry>& out) const override;
  StorageError term(Index index, Term& out) const override;
  Index first_index() const override;
  Index last_index() const override;
  StorageError snapshot(Snapshot& out) const override;

  void set_hard_state(const HardState& state);
  // Appends entries, replacing any existing suffix that starts at entries.front().index.
  // Entries at or below the compaction point are ignored.
  void append(const std::vector<Entry>& entries);
  // Replaces the whole log with a received snapshot. Older snapshots are ignored.
  void apply_snapshot(const Snapshot& snapshot);
  // Records a snapshot of the host state at `index` (which must be in the log and newer
  // than the current snapshot) and serves it to lagging followers. Does not compact.
  StorageError create_snapshot(Index index, const ConfState& conf, Bytes data);
  // Drops entries at and below `index`, which must not pass the latest snapshot.
  StorageError compact(Index index);

 private:
  Index first_index_locked() const { return compacted_index_ + 1; }
  Index last_index_locked() const { return compacted_index_ + log_.size(); }

  mutable std::mutex mu_;
  HardState hard_state_;
  Snapshot snapshot_;
  Index compacted_index_ = 0;
  Term compacted_term_ = 0;
  // log_[i] holds index compacted_index_ + 1 + i.
  std::deque<Entry> log_;
};

}  // namespace synod::raft
