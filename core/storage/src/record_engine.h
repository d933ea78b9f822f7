// RecordEngine: what a durable LogStore needs from the database under it. The engine
// stores opaque records (see records.h) in two ordered key spaces, entries and state;
// everything Raft-specific (rules, recovery, the in-memory index) lives in
// DurableLogStore, once for every engine.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "synod/raft/types.h"
#include "synod/storage/log_store.h"
#include "synod/storage/status.h"

namespace synod::storage {

// The changes of one atomic write.
class EngineBatch {
 public:
  virtual ~EngineBatch() = default;
  virtual void put_entry(std::string_view key, std::string_view value) = 0;
  // Deletes the entries of `partition` with lo <= index < hi.
  virtual void delete_entries(PartitionId partition, raft::Index lo, raft::Index hi) = 0;
  virtual void put_state(std::string_view key, std::string_view value) = 0;
  // Deletes every entry and state record of `partition`.
  virtual void delete_partition(PartitionId partition) = 0;
};

class RecordEngine {
 public:
  // Called per record by the reads below; returning false stops the read.
  using Visitor = std::function<bool(std::string_view key, std::string_view value)>;

  virtual ~RecordEngine() = default;
  virtual std::unique_ptr<EngineBatch> new_batch() = 0;
  // Applies `batch` atomically, ordered after every write that returned. Readers see it
  // at once; a crash of the machine (not of the process) may lose it until sync().
  virtual StorageStatus write(EngineBatch& batch) = 0;
  // Makes every write that returned durable.
  virtual StorageStatus sync() = 0;

  // Visits the entry records of `partition` with lo <= index < hi in index order.
  virtual StorageStatus read_entries(PartitionId partition, raft::Index lo, raft::Index hi,
                                     const Visitor& visit) = 0;
  // Reads one state record: NotFound when absent.
  virtual StorageStatus read_state(std::string_view key, std::string& value) = 0;
  // Visit every record of one key space in key order (recovery).
  virtual StorageStatus scan_entries(const Visitor& visit) = 0;
  virtual StorageStatus scan_states(const Visitor& visit) = 0;
};

}  // namespace synod::storage
