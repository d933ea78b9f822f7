#include "durable_store_kinds.h"

#include "power_cut_store.h"
#include "synod/storage/rocksdb_log_store.h"
#include "synod/storage/sqlite_log_store.h"

namespace synod::storage::testing {

StorageStatus try_open_durable(const std::string& kind, const std::string& dir,
                               std::unique_ptr<DurableLogStore>* out,
                               std::vector<std::string>* warnings) {
  DurableStoreOptions options;
  options.on_warning = [warnings](const std::string& w) {
    if (warnings) warnings->push_back(w);
  };
  StorageStatus st;
  std::unique_ptr<DurableLogStore> store;
  if (kind == "RocksDB") {
    std::unique_ptr<RocksDBLogStore> s;
    st = RocksDBLogStore::open(dir, options, s);
    store = std::move(s);
  } else if (kind == "SQLite") {
    std::unique_ptr<SQLiteLogStore> s;
    st = SQLiteLogStore::open(dir, options, s);
    store = std::move(s);
  } else {
    return StorageStatus::invalid_argument("unknown store kind " + kind);
  }
  if (out) *out = std::move(store);
  return st;
}

std::unique_ptr<DurableLogStore> open_durable(const std::string& kind, const std::string& dir,
                                              std::vector<std::string>* warnings) {
  std::unique_ptr<DurableLogStore> store;
  StorageStatus st = try_open_durable(kind, dir, &store, warnings);
  EXPECT_TRUE(st.ok()) << st.to_string();
  return store;
}

StoreKind durable_kind(const std::string& kind) {
  auto as_power_cut = [](std::unique_ptr<LogStore>& store) {
    return static_cast<PowerCutStore*>(store.get());
  };
  return {kind,
          [kind](const std::string& dir) -> std::unique_ptr<LogStore> {
            return PowerCutStore::open(kind, dir);
          },
          [as_power_cut](std::unique_ptr<LogStore> store,
                         const std::string&) -> std::unique_ptr<LogStore> {
            if (!as_power_cut(store)->restart()) return nullptr;
            return store;
          },
          [as_power_cut](std::unique_ptr<LogStore> store,
                         const std::string&) -> std::unique_ptr<LogStore> {
            if (!as_power_cut(store)->cut_power()) return nullptr;
            return store;
          }};
}

}  // namespace synod::storage::testing
