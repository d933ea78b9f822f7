#include "synod/storage/open_log_store.h"

#include "synod/storage/memory_log_store.h"
#include "synod/storage/rocksdb_log_store.h"
#include "synod/storage/sqlite_log_store.h"

namespace synod::storage {

StorageStatus open_log_store(std::string_view engine, const std::string& directory,
                             const DurableStoreOptions& options, std::unique_ptr<LogStore>& out) {
  if (engine == "rocksdb") {
    std::unique_ptr<RocksDBLogStore> store;
    StorageStatus st = RocksDBLogStore::open(directory, options, store);
    out = std::move(store);
    return st;
  }
  if (engine == "sqlite") {
    std::unique_ptr<SQLiteLogStore> store;
    StorageStatus st = SQLiteLogStore::open(directory, options, store);
    out = std::move(store);
    return st;
  }
  if (engine == "memory") {
    out = std::make_unique<MemoryLogStore>();
    return {};
  }
  return StorageStatus::invalid_argument("unknown storage engine '" + std::string(engine) +
                                         "' (expected rocksdb, sqlite or memory)");
}

}  // namespace synod::storage
