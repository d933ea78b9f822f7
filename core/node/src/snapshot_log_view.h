// The log a partition's Raft reads: the store's view, except that the snapshot a leader
// sends is the latest snapshot *file* (the log store records only metadata). When no file
// covers the compacted prefix (a durable-model host, whose log is compacted behind its
// applied floor, or a lost file), Raft hears SnapshotTemporarilyUnavailable and retries
// later, and the cycle sees export_wanted() and asks the host for a snapshot.
#pragma once

#include <atomic>
#include <memory>

#include "synod/raft/storage.h"
#include "synod/storage/snapshot_store.h"

namespace synod::node {

class SnapshotLogView final : public raft::LogStorage {
 public:
  // `files` may be null: the node keeps no snapshots and never sends one.
  SnapshotLogView(std::shared_ptr<raft::LogStorage> log, storage::SnapshotStore* files,
                  std::uint64_t partition)
      : log_(std::move(log)), files_(files), partition_(partition) {}

  raft::HardState hard_state() const override { return log_->hard_state(); }
  raft::SnapshotMeta snapshot_meta() const override { return log_->snapshot_meta(); }
  raft::StorageError entries(raft::Index lo, raft::Index hi, std::size_t max_bytes,
                             std::vector<raft::Entry>& out) const override {
    return log_->entries(lo, hi, max_bytes, out);
  }
  raft::StorageError term(raft::Index index, raft::Term& out) const override {
    return log_->term(index, out);
  }
  raft::Index first_index() const override { return log_->first_index(); }
  raft::Index last_index() const override { return log_->last_index(); }
  bool conf_entries(raft::Index lo, raft::Index hi, std::vector<raft::Entry>& out) const override {
    return log_->conf_entries(lo, hi, out);
  }
  // Metadata only; the transport streams the data from the file.
  raft::StorageError snapshot(raft::Snapshot& out) const override;

  // True once since Raft last wanted a snapshot that no file could give.
  bool take_export_wanted() { return export_wanted_.exchange(false); }

 private:
  const std::shared_ptr<raft::LogStorage> log_;
  storage::SnapshotStore* const files_;
  const std::uint64_t partition_;
  mutable std::atomic<bool> export_wanted_{false};
};

}  // namespace synod::node
