// LogStore: the durable state of every Raft group (partition) hosted by one node.
//
// Per partition a store keeps the log entries, the hard state (term, vote, commit), the
// latest snapshot, the compaction point and the host's applied floor. The runtime hands
// it everything the partitions asked to persist in one cycle as one WriteBatch, written
// with at most one sync (group commit), and each RawNode reads its partition back through
// the raft::LogStorage view from open_partition().
//
// Every store applies the same rules (see PartitionWrite): a write that breaks them is
// refused with InvalidArgument as a whole, and nothing of its batch is applied.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "synod/raft/storage.h"
#include "synod/raft/types.h"
#include "synod/storage/status.h"

namespace synod::storage {

using PartitionId = std::uint64_t;

// What one partition asks to persist in one cycle (typically one raft::Ready), plus the
// host's bookkeeping. Every part is optional. The parts are applied in this order:
// snapshot, entries, hard state, applied floor, compaction; each is checked against the
// state the previous parts leave.
struct PartitionWrite {
  PartitionId partition = 0;
  // Must not lower the stored term, nor change a vote already cast in the same term.
  // Its commit index must not pass the last index.
  std::optional<raft::HardState> hard_state;
  // A snapshot received from the leader. It replaces the whole log: afterwards the log is
  // empty, first_index() is snapshot.meta.index + 1 and the snapshot's term is known at its
  // index. Its index must be above both the stored snapshot and the stored commit index.
  std::optional<raft::Snapshot> snapshot;
  // Consecutive entries, in terms that never decrease. The first must lie above the
  // snapshot index and the stored commit index (committed entries are never rewritten)
  // and at most one past the last index (no gap). They replace every stored entry from
  // entries.front().index on.
  std::vector<raft::Entry> entries;
  // The index through which the host has durably applied this partition; never lowered.
  std::optional<raft::Index> applied_floor;
  // Drops the entries at and below this index. It must not pass the snapshot index; at or
  // below the current compaction point it changes nothing. The term at the compaction
  // point stays known, so Raft can still match the entry that follows.
  std::optional<raft::Index> compact_through;

  // True when the write carries nothing to apply.
  bool empty() const;
};

// The write that makes a partition's founding member: the bootstrap entry of
// raft::make_bootstrap_entry() and the hard state {term 1, no vote, commit 1}.
PartitionWrite bootstrap_write(PartitionId partition, const std::vector<raft::NodeId>& voters,
                               const std::vector<raft::NodeId>& learners = {});

// The writes of one runtime cycle, across partitions. A partition may appear more than
// once; its writes are applied in the order they were added.
class WriteBatch {
 public:
  // Adds an empty write for `partition` and returns it for filling in.
  PartitionWrite& add(PartitionId partition);
  PartitionWrite& add(PartitionWrite write);

  const std::vector<PartitionWrite>& writes() const { return writes_; }
  bool empty() const { return writes_.empty(); }
  // Entries over all writes.
  std::size_t entry_count() const;
  void clear() { writes_.clear(); }

 private:
  std::vector<PartitionWrite> writes_;
};

// A node's log store. Thread-safe: any thread may write and read, and partition views may
// be read while other partitions are written.
//
// Durability: a write with sync=true returns once it and every earlier write are durable.
// A write with sync=false is visible to readers at once but may be lost by a crash (a
// power failure, or a crash of a store that buffers in the process) until a later sync.
// A crash loses a suffix of the unsynced writes, never a write in the middle.
//
// Snapshots and compaction: a snapshot received from the leader and compaction travel in
// the batch (PartitionWrite::snapshot, PartitionWrite::compact_through), so they become
// durable with the entries and hard state of the same cycle. A snapshot the host takes
// of its own state is recorded with create_snapshot(), which keeps the log.
class LogStore {
 public:
  virtual ~LogStore() = default;
  LogStore(const LogStore&) = delete;
  LogStore& operator=(const LogStore&) = delete;

  // Applies every write of `batch` atomically: either all of them or, when one breaks the
  // rules (InvalidArgument) or the store fails, none. With `sync`, returns once durable.
  // An empty batch with `sync` only makes earlier writes durable.
  virtual StorageStatus write(const WriteBatch& batch, bool sync) = 0;
  // Makes every earlier write durable.
  StorageStatus sync() { return write(WriteBatch(), true); }

  // The read view a RawNode uses for `partition`. It reflects every write that returned
  // (synced or not), including writes made after it was opened, and shows an empty log
  // for a partition without stored state. It must not outlive the store.
  virtual std::shared_ptr<raft::LogStorage> open_partition(PartitionId partition) = 0;
  // Partitions with stored state, in ascending order: every partition named by an
  // accepted non-empty write and not removed since. Used to find them again on restart.
  virtual std::vector<PartitionId> partitions() const = 0;
  // The host's applied floor of `partition` (0 when none was stored).
  virtual raft::Index applied_floor(PartitionId partition) const = 0;

  // Records a snapshot of the host's state at `index` with configuration `conf`; the
  // log is kept (compact it with a later write). `index` must be a stored entry, above
  // the current snapshot and at most the stored commit index. Durable on return, with
  // every earlier write. NotFound when the partition has no stored state.
  virtual StorageStatus create_snapshot(PartitionId partition, raft::Index index,
                                        const raft::ConfState& conf, raft::Bytes data) = 0;
  // Deletes everything stored for `partition`. Durable on return, with every earlier
  // write. Removing a partition without stored state succeeds.
  virtual StorageStatus remove_partition(PartitionId partition) = 0;
  // Ok, or why the partition's stored state cannot be served (a durable store found it
  // damaged on open or on a read). A damaged partition must not be run.
  virtual StorageStatus partition_error(PartitionId partition) const;

  // Statistics since the store was opened, for benchmarks and metrics.
  // Syncs performed: writes with sync=true, sync(), create_snapshot(), remove_partition().
  std::uint64_t syncs() const { return syncs_.load(std::memory_order_relaxed); }
  // Accepted non-empty batches.
  std::uint64_t batches() const { return batches_.load(std::memory_order_relaxed); }
  // Entries in accepted batches.
  std::uint64_t entries_written() const { return entries_written_.load(std::memory_order_relaxed); }
  // Payload bytes of the entries in accepted batches (what the log grew by, before the
  // store's own framing and checksums).
  std::uint64_t entry_bytes_written() const {
    return entry_bytes_written_.load(std::memory_order_relaxed);
  }

 protected:
  LogStore() = default;
  // Implementations call these once an operation succeeded.
  void count_write(const WriteBatch& batch, bool synced);
  void count_sync() { syncs_.fetch_add(1, std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> syncs_{0};
  std::atomic<std::uint64_t> batches_{0};
  std::atomic<std::uint64_t> entries_written_{0};
  std::atomic<std::uint64_t> entry_bytes_written_{0};
};

}  // namespace synod::storage
