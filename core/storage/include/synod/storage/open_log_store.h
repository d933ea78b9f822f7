// Opening a LogStore by engine name, for programs that take the engine as a setting
// (benchmarks, example servers, the C ABI).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "synod/storage/durable_log_store.h"
#include "synod/storage/log_store.h"

namespace synod::storage {

// Opens a store of `engine`: "rocksdb" (the default engine), "sqlite", or "memory" (which
// ignores `directory` and keeps nothing across restarts). InvalidArgument for any other
// name; otherwise as RocksDBLogStore::open.
StorageStatus open_log_store(std::string_view engine, const std::string& directory,
                             const DurableStoreOptions& options, std::unique_ptr<LogStore>& out);

}  // namespace synod::storage
