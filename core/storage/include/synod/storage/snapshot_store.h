// SnapshotStore: a node's snapshot files, kept apart from the log.
//
// A snapshot is the host's state at one log index. It is never held whole in memory: the
// host writes it through a SnapshotSink, the transport sends the file in chunks read from
// a SnapshotSource and the receiver writes them into a sink of its own, and the host reads
// it back as a stream. The log store records only the snapshot's metadata
// (LogStore::create_snapshot with empty data, or PartitionWrite::snapshot).
//
// A snapshot file is self-describing and checksummed: a header (format version, partition,
// index, term, configuration, data size), the host's data, and a trailer holding a CRC32C
// of everything before it. A file is written under a temporary name, synced and renamed
// into place by commit(), so a crash leaves either no snapshot or a whole one; temporary
// files left by a crash are deleted when the store opens.
//
// Thread-safe: sinks and sources of different snapshots may be used concurrently from any
// threads; one sink or source is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "synod/raft/types.h"
#include "synod/storage/log_store.h"
#include "synod/storage/status.h"

namespace synod::storage {

// One committed snapshot.
struct SnapshotInfo {
  PartitionId partition = 0;
  raft::SnapshotMeta meta;
  // Size of the host's data, and of the whole file as it travels between nodes.
  std::uint64_t data_bytes = 0;
  std::uint64_t file_bytes = 0;
};

// Writes one snapshot. Destroying a sink that was not committed deletes what it wrote.
class SnapshotSink {
 public:
  virtual ~SnapshotSink() = default;
  // Appends bytes. After a failed write the sink only accepts destruction.
  virtual StorageStatus write(const void* data, std::size_t size) = 0;
  // Completes the file, checks it (a received file: its header, its size and its
  // checksum), syncs it and renames it into place; on success `*info` describes the
  // snapshot, which latest() and open_*() now find. A received file that fails its checks
  // is deleted and Corruption returned. Committing a snapshot no newer than the latest is
  // allowed (it is kept until remove_older()).
  virtual StorageStatus commit(SnapshotInfo* info) = 0;
};

// Reads one committed snapshot from its beginning.
class SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;
  virtual const SnapshotInfo& info() const = 0;
  // Reads up to `size` bytes into `out` and sets `*got` (0 at the end). The checksum is
  // checked as the end is reached: a mismatch or a file shorter than its header says is
  // Corruption, never a silent short read.
  virtual StorageStatus read(void* out, std::size_t size, std::size_t* got) = 0;
};

class SnapshotStore {
 public:
  virtual ~SnapshotStore() = default;

  // A sink for the host's data of a snapshot of `partition` at `meta` (the store writes
  // the header and the trailer). InvalidArgument when meta.index or meta.term is 0.
  virtual StorageStatus create(PartitionId partition, const raft::SnapshotMeta& meta,
                               std::unique_ptr<SnapshotSink>* out) = 0;
  // A sink for a whole file sent by another node's open_file() source. Its header names
  // the partition and the metadata, and is checked as soon as it has arrived: a file of
  // another partition than `partition`, or one longer than `max_file_bytes`, is refused
  // with InvalidArgument by that write(), before its data arrives. Damage found on the way
  // or at commit() is Corruption (Unsupported for a file of a newer format).
  virtual StorageStatus receive(PartitionId partition, std::uint64_t max_file_bytes,
                                std::unique_ptr<SnapshotSink>* out) = 0;

  // The host's data of the snapshot of `partition` at `index` (NotFound when there is no
  // such snapshot).
  virtual StorageStatus open_data(PartitionId partition, raft::Index index,
                                  std::unique_ptr<SnapshotSource>* out) = 0;
  // The whole file, for sending to another node's receive().
  virtual StorageStatus open_file(PartitionId partition, raft::Index index,
                                  std::unique_ptr<SnapshotSource>* out) = 0;
  // Reads the whole snapshot and checks its checksum (done before a snapshot found on
  // restart is handed to the host).
  virtual StorageStatus verify(PartitionId partition, raft::Index index) = 0;

  // The newest committed snapshot of `partition`, if any.
  virtual std::optional<SnapshotInfo> latest(PartitionId partition) const = 0;
  // Every committed snapshot of `partition`, oldest first.
  virtual std::vector<SnapshotInfo> list(PartitionId partition) const = 0;
  // Deletes the snapshots of `partition` below `index` (a sink or source in use keeps its
  // file readable until it is destroyed).
  virtual StorageStatus remove_older(PartitionId partition, raft::Index index) = 0;
  // Deletes every snapshot of `partition`.
  virtual StorageStatus remove_partition(PartitionId partition) = 0;
};

// Snapshots in files under `directory` (created if missing), one subdirectory per
// partition. Deletes temporary files a crash left behind.
std::unique_ptr<SnapshotStore> open_disk_snapshot_store(const std::string& directory,
                                                        StorageStatus* status);
// Snapshots in memory, in the same format: for tests, the simulator and memory-backed
// nodes.
std::unique_ptr<SnapshotStore> make_memory_snapshot_store();

}  // namespace synod::storage
