// DurableLogStore::Impl: the in-memory index over a RecordEngine, group commit, and
// recovery. Engines construct it in their open() and hand it to DurableLogStore.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "data_directory.h"
#include "record_engine.h"
#include "records.h"
#include "synod/storage/durable_log_store.h"
#include "write_rules.h"

namespace synod::storage {

// Hands `warning` to options.on_warning, or to stderr when it is unset.
void emit_warning(const DurableStoreOptions& options, const StorageWarning& warning);

// A run of consecutive entries with one term, from `first` up to the next run.
struct TermRun {
  raft::Index first = 0;
  raft::Term term = 0;
};

// What the store keeps in memory of one partition.
struct PartitionIndex {
  raft::HardState hard_state;
  raft::SnapshotMeta snapshot;  // index 0: no snapshot
  // Names the stored snapshot record: set anew, unique across the store, whenever the
  // record is written, so that a reader caches what it read from the database only when
  // no other snapshot was written meanwhile (not even by a removed and remade partition).
  std::uint64_t snapshot_version = 0;
  // The stored snapshot, decoded by the first snapshot() call after it was written (Raft
  // calls it for every InstallSnapshot it sends) and kept until a newer one is written, so
  // a re-send reads nothing. Filled lazily, not on write, so that only partitions that
  // send their snapshot hold its data in memory. The data is a shared raft::Bytes: the
  // copies handed out share one buffer. Written by readers with mu_ held exclusively.
  mutable std::optional<raft::Snapshot> snapshot_cache;
  records::CompactionPoint compacted;
  raft::Index last_index = 0;
  // Cover (compacted.index, last_index], ascending.
  std::vector<TermRun> runs;
  // Indexes of the ConfChange entries in the log, ascending: a starting member reads
  // these instead of its whole log.
  std::vector<raft::Index> conf_indexes;
  raft::Index applied_floor = 0;
  // The newest entries, consecutive and ending at last_index.
  std::deque<raft::Entry> tail;
  std::size_t tail_bytes = 0;

  raft::Index first_index() const { return compacted.index + 1; }
  LogBounds bounds() const;
  std::optional<raft::Term> term_at(raft::Index index) const;
  void truncate_from(raft::Index index);
  void append(const raft::Entry& entry);
  void trim_tail(std::size_t budget, std::size_t keep);
  void compact_to(const records::CompactionPoint& point);
  // A snapshot record was written with `meta`; `version` is its new snapshot_version.
  void replace_snapshot(const raft::SnapshotMeta& meta, std::uint64_t version);
  // A received snapshot replaced the whole log.
  void reset_to_snapshot(const raft::SnapshotMeta& meta, std::uint64_t version);
};

class DurableLogStore::Impl {
 public:
  Impl(DataDirectory directory, std::unique_ptr<RecordEngine> engine, DurableStoreOptions options);

  // Reads every record back and builds the index. Fails only for store-wide problems;
  // a damaged partition is recorded and the rest recover.
  StorageStatus recover();

  StorageStatus write(const WriteBatch& batch, bool sync);
  std::vector<PartitionId> partitions() const;
  raft::Index applied_floor(PartitionId partition) const;
  // Both return once durable.
  StorageStatus create_snapshot(PartitionId partition, raft::Index index,
                                const raft::ConfState& conf, raft::Bytes data);
  StorageStatus remove_partition(PartitionId partition);
  // Syncs that reached the engine (concurrent sync writes share them).
  std::uint64_t engine_syncs() const { return engine_syncs_.load(std::memory_order_relaxed); }
  // Snapshot records read from the engine by snapshot().
  std::uint64_t snapshot_reads() const { return snapshot_reads_.load(std::memory_order_relaxed); }
  StorageStatus partition_error(PartitionId partition) const;
  std::vector<std::pair<PartitionId, StorageStatus>> damaged_partitions() const;
  const std::string& directory() const { return directory_.path(); }

  // The reads behind a partition's raft::LogStorage view.
  raft::HardState hard_state(PartitionId partition) const;
  raft::SnapshotMeta snapshot_meta(PartitionId partition) const;
  raft::StorageError entries(PartitionId partition, raft::Index lo, raft::Index hi,
                             std::size_t max_bytes, std::vector<raft::Entry>& out) const;
  raft::StorageError term(PartitionId partition, raft::Index index, raft::Term& out) const;
  raft::Index first_index(PartitionId partition) const;
  raft::Index last_index(PartitionId partition) const;
  raft::StorageError snapshot(PartitionId partition, raft::Snapshot& out) const;
  bool conf_entries(PartitionId partition, raft::Index lo, raft::Index hi,
                    std::vector<raft::Entry>& out) const;

 private:
  const PartitionIndex* find(PartitionId partition) const;
  // entries() with mu_ held (shared) and the range checked against `index`.
  raft::StorageError read_locked(PartitionId partition, const PartitionIndex& index, raft::Index lo,
                                 raft::Index hi, std::size_t max_bytes,
                                 std::vector<raft::Entry>& out) const;
  void apply(PartitionId partition, PartitionIndex& index, const PartitionWrite& write,
             EngineBatch& batch);
  // Writes `batch` to the engine in order; returns its sequence number.
  StorageStatus write_ordered(EngineBatch& batch, std::uint64_t& seq);
  StorageStatus sync_through(std::uint64_t seq);
  StorageStatus failure() const;
  void fail(const StorageStatus& status);
  // Records damage found while serving reads; the partition is refused from then on.
  // `term`: the partition's stored term, when it is at hand.
  void mark_damaged(PartitionId partition, std::optional<raft::Term> term,
                    const StorageStatus& status) const;
  void warn(const StorageWarning& warning) const;

  DataDirectory directory_;
  std::unique_ptr<RecordEngine> engine_;
  DurableStoreOptions options_;

  // Guards the index. Held shared by readers, exclusively only for in-memory updates
  // (among them a reader keeping the snapshot it read).
  mutable std::shared_mutex mu_;
  std::map<PartitionId, PartitionIndex> index_;
  // The last snapshot_version handed out; guarded by mu_.
  std::uint64_t last_snapshot_version_ = 0;
  // Partitions refused because their stored state is damaged.
  mutable std::mutex damaged_mu_;
  mutable std::map<PartitionId, StorageStatus> damaged_;

  // Orders engine writes the way the index sees them. A writer updates the index before
  // the engine, both under this lock; snapshot() takes it to see the two agree.
  mutable std::mutex order_mu_;
  std::atomic<std::uint64_t> written_seq_{0};

  // Group commit: one caller syncs for everyone written so far; the others wait.
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  bool sync_running_ = false;
  std::uint64_t synced_seq_ = 0;
  std::atomic<std::uint64_t> engine_syncs_{0};
  mutable std::atomic<std::uint64_t> snapshot_reads_{0};

  mutable std::mutex failure_mu_;
  StorageStatus failure_;
};

}  // namespace synod::storage
