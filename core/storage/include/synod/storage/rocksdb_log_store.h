// RocksDBLogStore: the default durable LogStore, over RocksDB.
//
// Column families "entries" and "state" hold the records described in
// durable_log_store.h. The write-ahead log is recovered with
// kTolerateCorruptedTailRecords: a torn tail after the last sync is dropped, damage
// before it fails the open with Corruption. A sync is one fsync of the write-ahead log.
#pragma once

#include <memory>
#include <string>

#include "synod/storage/durable_log_store.h"

namespace synod::storage {

class RocksDBLogStore final : public DurableLogStore {
 public:
  // The format version this build writes and the newest it reads.
  static constexpr int kFormatVersion = 1;

  // Opens the store in `directory`, creating both when missing. Errors: Locked (another
  // store holds the directory), Unsupported (another engine's or a newer format),
  // Corruption (the database cannot be recovered), IoError.
  static StorageStatus open(const std::string& directory, const DurableStoreOptions& options,
                            std::unique_ptr<RocksDBLogStore>& out);

 private:
  using DurableLogStore::DurableLogStore;
};

}  // namespace synod::storage
