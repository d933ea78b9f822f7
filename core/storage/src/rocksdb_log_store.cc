#include "synod/storage/rocksdb_log_store.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <limits>

#include "data_directory.h"
#include "durable_store_impl.h"
#include "record_engine.h"
#include "records.h"

namespace synod::storage {
namespace {

constexpr const char* kEngineName = "rocksdb";
constexpr const char* kEntriesFamily = "entries";
constexpr const char* kStateFamily = "state";

StorageStatus from_rocksdb(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return {};
  const std::string message = what + ": " + s.ToString();
  if (s.IsCorruption()) return StorageStatus::corruption(message);
  if (s.IsNotFound()) return StorageStatus::not_found(message);
  if (s.IsNotSupported()) return StorageStatus::unsupported(message);
  if (s.IsInvalidArgument()) return StorageStatus::invalid_argument(message);
  return StorageStatus::io_error(message);
}

rocksdb::Slice slice(std::string_view s) { return {s.data(), s.size()}; }
std::string_view view(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

// RocksDB's own warnings and errors (a torn log tail dropped on recovery, write stalls,
// background errors) go to the store's warning sink instead of a file nobody reads.
class WarningLogger final : public rocksdb::Logger {
 public:
  explicit WarningLogger(DurableStoreOptions options)
      : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL), options_(std::move(options)) {}

  using rocksdb::Logger::Logv;
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel()) return;
    char text[1024];
    std::vsnprintf(text, sizeof text, format, ap);
    try {
      emit_warning(options_, {std::nullopt, std::nullopt, std::string("rocksdb: ") + text});
    } catch (...) {
      // RocksDB is not exception-safe; a failing sink loses this message only.
    }
  }

 private:
  DurableStoreOptions options_;
};

class RocksDBBatch final : public EngineBatch {
 public:
  RocksDBBatch(rocksdb::ColumnFamilyHandle* entries, rocksdb::ColumnFamilyHandle* state)
      : entries_(entries), state_(state) {}

  void put_entry(std::string_view key, std::string_view value) override {
    batch_.Put(entries_, slice(key), slice(value));
  }
  void delete_entries(PartitionId partition, raft::Index lo, raft::Index hi) override {
    batch_.DeleteRange(entries_, records::entry_key(partition, lo),
                       records::entry_key(partition, hi));
  }
  void put_state(std::string_view key, std::string_view value) override {
    batch_.Put(state_, slice(key), slice(value));
  }
  void delete_partition(PartitionId partition) override {
    constexpr raft::Index kLast = std::numeric_limits<raft::Index>::max();
    batch_.DeleteRange(entries_, records::entry_key(partition, 0),
                       records::entry_key(partition, kLast));
    batch_.Delete(entries_, records::entry_key(partition, kLast));
    for (auto kind : {records::StateKind::HardState, records::StateKind::Snapshot,
                      records::StateKind::AppliedFloor, records::StateKind::Compaction}) {
      batch_.Delete(state_, records::state_key(partition, kind));
    }
  }

  rocksdb::WriteBatch& batch() { return batch_; }

 private:
  rocksdb::ColumnFamilyHandle* entries_;
  rocksdb::ColumnFamilyHandle* state_;
  rocksdb::WriteBatch batch_;
};

class RocksDBEngine final : public RecordEngine {
 public:
  ~RocksDBEngine() override {
    if (!db_) return;
    // A clean close leaves nothing in the write-ahead log to replay: the next open only
    // reads tables. (Everything is durable already; a failed flush changes nothing.)
    db_->Flush(rocksdb::FlushOptions(), handles_).PermitUncheckedError();
    for (rocksdb::ColumnFamilyHandle* h : handles_) db_->DestroyColumnFamilyHandle(h);
    db_->Close().PermitUncheckedError();
  }

  StorageStatus open(const std::string& path, const DurableStoreOptions& store_options) {
    rocksdb::Options options;
    options.info_log = std::make_shared<WarningLogger>(store_options);
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    options.paranoid_checks = true;
    // A torn tail after the last sync is dropped; damage before it fails the open.
    options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
    options.max_background_jobs = 2;
    options.keep_log_file_num = 4;
    // Tables written by flushes and compactions are synced a megabyte at a time, so a
    // write-ahead log sync never waits behind a large burst of table data.
    options.bytes_per_sync = 1 << 20;

    rocksdb::ColumnFamilyOptions family;
    family.compression = rocksdb::kNoCompression;  // payloads are the host's, often compressed
    std::vector<rocksdb::ColumnFamilyDescriptor> families = {
        {rocksdb::kDefaultColumnFamilyName, family},
        {kEntriesFamily, family},
        {kStateFamily, family},
    };
    rocksdb::DB* db = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(options, path, families, &handles_, &db);
    if (!s.ok()) return from_rocksdb(s, "cannot open the RocksDB database in " + path);
    db_.reset(db);
    return {};
  }

  std::unique_ptr<EngineBatch> new_batch() override {
    return std::make_unique<RocksDBBatch>(entries(), state());
  }

  StorageStatus write(EngineBatch& batch) override {
    rocksdb::WriteOptions options;
    options.sync = false;
    return from_rocksdb(db_->Write(options, &static_cast<RocksDBBatch&>(batch).batch()),
                        "RocksDB write failed");
  }

  StorageStatus sync() override { return from_rocksdb(db_->SyncWAL(), "RocksDB sync failed"); }

  StorageStatus read_entries(PartitionId partition, raft::Index lo, raft::Index hi,
                             const Visitor& visit) override {
    const std::string upper = records::entry_key(partition, hi);
    rocksdb::Slice upper_slice(upper);
    rocksdb::ReadOptions options;
    options.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, entries()));
    for (it->Seek(records::entry_key(partition, lo)); it->Valid(); it->Next()) {
      if (!visit(view(it->key()), view(it->value()))) break;
    }
    return from_rocksdb(it->status(), "RocksDB read failed");
  }

  StorageStatus read_state(std::string_view key, std::string& value) override {
    return from_rocksdb(db_->Get(rocksdb::ReadOptions(), state(), slice(key), &value),
                        "RocksDB read failed");
  }

  StorageStatus scan_entries(const Visitor& visit) override { return scan(entries(), visit); }
  StorageStatus scan_states(const Visitor& visit) override { return scan(state(), visit); }

 private:
  rocksdb::ColumnFamilyHandle* entries() const { return handles_[1]; }
  rocksdb::ColumnFamilyHandle* state() const { return handles_[2]; }

  StorageStatus scan(rocksdb::ColumnFamilyHandle* family, const Visitor& visit) {
    rocksdb::ReadOptions options;
    options.fill_cache = false;
    options.readahead_size = 4 << 20;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, family));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (!visit(view(it->key()), view(it->value()))) break;
    }
    return from_rocksdb(it->status(), "RocksDB scan failed");
  }

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

}  // namespace

StorageStatus RocksDBLogStore::open(const std::string& directory,
                                    const DurableStoreOptions& options,
                                    std::unique_ptr<RocksDBLogStore>& out) {
  DataDirectory dir;
  if (auto st = DataDirectory::open(directory, kEngineName, kFormatVersion, dir); !st.ok()) {
    return st;
  }
  // Created here so that RocksDB does not warn that it found no directory to list.
  const std::string database = directory + "/rocksdb";
  std::error_code ec;
  std::filesystem::create_directories(database, ec);
  if (ec) return StorageStatus::io_error("cannot create " + database + ": " + ec.message());
  auto engine = std::make_unique<RocksDBEngine>();
  if (auto st = engine->open(database, options); !st.ok()) return st;
  auto impl = std::make_unique<Impl>(std::move(dir), std::move(engine), options);
  if (auto st = impl->recover(); !st.ok()) return st;
  out.reset(new RocksDBLogStore(std::move(impl)));
  return {};
}

}  // namespace synod::storage
