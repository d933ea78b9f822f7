// SQLiteLogStore: the durable LogStore over SQLite, for hosts that prefer one database
// file to RocksDB.
//
// The file `synod.sqlite` has two tables, entries(partition, idx, record) and
// state(partition, kind, record), both WITHOUT ROWID so rows are stored in key order.
// It runs with journal_mode=WAL and synchronous=FULL: a sync is one commit that fsyncs
// the write-ahead log; writes made with sync=false commit without an fsync and become
// durable with the next sync.
#pragma once

#include <memory>
#include <string>

#include "synod/storage/durable_log_store.h"

namespace synod::storage {

class SQLiteLogStore final : public DurableLogStore {
 public:
  static constexpr int kFormatVersion = 1;

  // As RocksDBLogStore::open.
  static StorageStatus open(const std::string& directory, const DurableStoreOptions& options,
                            std::unique_ptr<SQLiteLogStore>& out);

 private:
  using DurableLogStore::DurableLogStore;
};

}  // namespace synod::storage
