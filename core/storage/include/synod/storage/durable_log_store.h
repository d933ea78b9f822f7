// DurableLogStore: the LogStore kept on disk, shared by RocksDBLogStore (the default)
// and SQLiteLogStore; they differ only in the database under it.
//
// On disk: one directory per node holding every partition. Each entry is one record
// keyed by (partition, index) and each piece of partition state (hard state, snapshot,
// applied floor, compaction point) one record keyed by (partition, kind), all with a
// CRC32C over key and value (see src/records.h). Compaction and partition removal delete
// key ranges in bulk.
//
// In memory, per partition: the hard state, snapshot metadata, compaction point, applied
// floor, the term of every index as runs of equal terms, and a bounded cache of the
// newest entries (the ones Raft reads back to apply and replicate). Term lookups never
// touch the disk. The snapshot itself is read from the disk when Raft first sends it to
// a follower and kept until a newer one is written or the partition removed (one per
// partition at most), so re-sending it reads nothing.
//
// Opening recovers every partition by reading all its records once and verifying their
// checksums. A partition whose records are damaged (a checksum mismatch, a record that
// does not decode, a gap in the log, a commit index beyond the log) is not served: its
// error, naming the partition and the index, is in partition_error() and every write to
// it is refused. Damaged records are never returned, and never dropped either: an entry
// may have been acknowledged to a leader, so only a person may decide to discard it. A
// torn write after the last sync is the database's to discard (RocksDB's and SQLite's
// write-ahead logs checksum their own records and drop an incomplete tail on open).
//
// Group commit: concurrent write(..., sync=true) calls share syncs; each returns once
// its batch and every earlier one are durable. A failed write or sync leaves the store
// failed: every later write returns that error (after a failed fsync the operating
// system's cache cannot be trusted).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "synod/storage/log_store.h"

namespace synod::storage {

class RecordEngine;

// A warning meant for the operator, with the partition it concerns (and that partition's
// stored term, when it is at hand) as data, not only in the text.
struct StorageWarning {
  std::optional<PartitionId> partition;
  std::optional<raft::Term> term;
  std::string message;
};

struct DurableStoreOptions {
  // Receives warnings meant for the operator. Unset: they go to stderr.
  std::function<void(const StorageWarning&)> on_warning;
  // Bytes of the newest entries cached per partition (at least the last write's
  // entries are always cached).
  std::size_t tail_cache_bytes = 256 << 10;
};

class DurableLogStore : public LogStore {
 public:
  ~DurableLogStore() override;

  StorageStatus write(const WriteBatch& batch, bool sync) override;
  std::shared_ptr<raft::LogStorage> open_partition(PartitionId partition) override;
  std::vector<PartitionId> partitions() const override;
  raft::Index applied_floor(PartitionId partition) const override;
  StorageStatus create_snapshot(PartitionId partition, raft::Index index,
                                const raft::ConfState& conf, raft::Bytes data) override;
  StorageStatus remove_partition(PartitionId partition) override;
  StorageStatus partition_error(PartitionId partition) const override;

  // The partitions found damaged on open, with their errors.
  std::vector<std::pair<PartitionId, StorageStatus>> damaged_partitions() const;
  const std::string& directory() const;
  // Syncs that reached the database. syncs() counts the calls that asked for one;
  // concurrent callers share a sync, and a sync with nothing new to make durable costs none.
  std::uint64_t engine_syncs() const;
  // Snapshots read from the database to serve a partition view's snapshot(): one per
  // snapshot written (or found on open) that a view was asked for, however often asked.
  std::uint64_t snapshot_reads() const;

  class Impl;

 protected:
  // Takes a recovered store (see src/durable_store_impl.h); used by the engines' open().
  explicit DurableLogStore(std::unique_ptr<Impl> impl);

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace synod::storage
