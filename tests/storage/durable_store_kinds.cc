#include "durable_store_kinds.h"

#include <rocksdb/db.h>
#include <sqlite3.h>

#include "power_cut_store.h"
#include "records.h"
#include "synod/storage/rocksdb_log_store.h"
#include "synod/storage/sqlite_log_store.h"

namespace synod::storage::testing {

StorageStatus try_open_durable(const std::string& kind, const std::string& dir,
                               std::unique_ptr<DurableLogStore>* out,
                               std::vector<StorageWarning>* warnings) {
  DurableStoreOptions options;
  options.on_warning = [warnings](const StorageWarning& w) {
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
                                              std::vector<StorageWarning>* warnings) {
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

void tamper_entry(const std::string& kind, const std::string& dir, PartitionId p, raft::Index i,
                  const std::function<void(std::string&)>& change) {
  const std::string key = records::entry_key(p, i);
  if (kind == "RocksDB") {
    std::vector<rocksdb::ColumnFamilyDescriptor> families = {
        {rocksdb::kDefaultColumnFamilyName, {}}, {"entries", {}}, {"state", {}}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open({}, dir + "/rocksdb", families, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::string value;
    ASSERT_TRUE(db->Get({}, handles[1], key, &value).ok());
    change(value);
    rocksdb::WriteOptions sync;
    sync.sync = true;
    ASSERT_TRUE(db->Put(sync, handles[1], key, value).ok());
    for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
    ASSERT_TRUE(db->Close().ok());
  } else {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir + "/synod.sqlite").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* get = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT record FROM entries WHERE key = ?", -1, &get, nullptr),
              SQLITE_OK);
    sqlite3_bind_blob(get, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    ASSERT_EQ(sqlite3_step(get), SQLITE_ROW);
    std::string value(static_cast<const char*>(sqlite3_column_blob(get, 0)),
                      static_cast<std::size_t>(sqlite3_column_bytes(get, 0)));
    sqlite3_finalize(get);
    change(value);
    sqlite3_stmt* put = nullptr;
    ASSERT_EQ(
        sqlite3_prepare_v2(db, "UPDATE entries SET record = ? WHERE key = ?", -1, &put, nullptr),
        SQLITE_OK);
    sqlite3_bind_blob(put, 1, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
    sqlite3_bind_blob(put, 2, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    ASSERT_EQ(sqlite3_step(put), SQLITE_DONE);
    sqlite3_finalize(put);
    ASSERT_EQ(sqlite3_close(db), SQLITE_OK);
  }
}

}  // namespace synod::storage::testing
