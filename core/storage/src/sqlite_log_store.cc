#include "synod/storage/sqlite_log_store.h"

#include <sqlite3.h>

#include <limits>
#include <mutex>
#include <variant>

#include "data_directory.h"
#include "durable_store_impl.h"
#include "record_engine.h"
#include "records.h"

namespace synod::storage {
namespace {

constexpr const char* kEngineName = "sqlite";
// Frames in the write-ahead log after which a sync also checkpoints it into the database.
constexpr int kCheckpointFrames = 8192;

std::string sqlite_error(sqlite3* db, const std::string& what) {
  return what + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
}

// The status for SQLite result code `rc`, with `message` for people.
StorageStatus status_of(int rc, const std::string& message) {
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) return {};
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return StorageStatus::corruption(message);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return StorageStatus::locked(message);
    default:
      return StorageStatus::io_error(message);
  }
}

StorageStatus from_sqlite(int rc, sqlite3* db, const std::string& what) {
  return status_of(rc, sqlite_error(db, what));
}

// One prepared statement, reset after each use.
class Statement {
 public:
  Statement() = default;
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  int prepare(sqlite3* db, const char* sql) {
    return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  }
  void bind(int i, std::string_view blob) {
    sqlite3_bind_blob(stmt_, i, blob.data(), static_cast<int>(blob.size()), SQLITE_STATIC);
  }
  // Runs to completion; returns the last step's code.
  int run() {
    int rc;
    while ((rc = sqlite3_step(stmt_)) == SQLITE_ROW) {
    }
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    return rc;
  }
  sqlite3_stmt* get() { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

std::string_view column_blob(sqlite3_stmt* stmt, int i) {
  const void* p = sqlite3_column_blob(stmt, i);
  return {static_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt, i))};
}

struct PutOp {
  bool entry;
  std::string key;
  std::string value;
};
struct DeleteRangeOp {
  bool entry;
  std::string lo;
  std::string hi;
};
using Op = std::variant<PutOp, DeleteRangeOp>;

class SQLiteBatch final : public EngineBatch {
 public:
  void put_entry(std::string_view key, std::string_view value) override {
    ops_.push_back(PutOp{true, std::string(key), std::string(value)});
  }
  void delete_entries(PartitionId partition, raft::Index lo, raft::Index hi) override {
    ops_.push_back(
        DeleteRangeOp{true, records::entry_key(partition, lo), records::entry_key(partition, hi)});
  }
  void put_state(std::string_view key, std::string_view value) override {
    ops_.push_back(PutOp{false, std::string(key), std::string(value)});
  }
  void delete_partition(PartitionId partition) override {
    // Every key of the partition starts with its 8-byte prefix; the prefix followed by
    // 0xff bytes bounds both key spaces from above.
    std::string lo = records::partition_prefix(partition);
    std::string hi = lo + std::string(9, '\xff');
    ops_.push_back(DeleteRangeOp{true, lo, hi});
    ops_.push_back(DeleteRangeOp{false, lo, hi});
  }
  const std::vector<Op>& ops() const { return ops_; }

 private:
  std::vector<Op> ops_;
};

// A connection with its own lock: the engine keeps one for writing and one for reading,
// so reads proceed while a write waits for its fsync (WAL mode allows both at once).
struct Connection {
  std::mutex mu;
  sqlite3* db = nullptr;
  ~Connection() { sqlite3_close_v2(db); }
};

class SQLiteEngine final : public RecordEngine {
 public:
  StorageStatus open(const std::string& path) {
    for (Connection* c : {&writer_, &reader_}) {
      const int rc = sqlite3_open_v2(
          path.c_str(), &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
          nullptr);
      if (rc != SQLITE_OK) return from_sqlite(rc, c->db, "cannot open " + path);
      sqlite3_extended_result_codes(c->db, 1);
      sqlite3_busy_timeout(c->db, 10000);
      if (c == &writer_) {
        if (auto st = exec(writer_.db,
                           "PRAGMA journal_mode=WAL;"
                           "PRAGMA synchronous=FULL;"
                           "PRAGMA wal_autocheckpoint=0;"
                           "CREATE TABLE IF NOT EXISTS entries("
                           "  key BLOB PRIMARY KEY, record BLOB NOT NULL) WITHOUT ROWID;"
                           "CREATE TABLE IF NOT EXISTS state("
                           "  key BLOB PRIMARY KEY, record BLOB NOT NULL) WITHOUT ROWID;"
                           "CREATE TABLE IF NOT EXISTS sync_marker("
                           "  id INTEGER PRIMARY KEY, n INTEGER NOT NULL);"
                           "INSERT OR IGNORE INTO sync_marker VALUES(1, 0);",
                           "cannot set up " + path);
            !st.ok()) {
          return st;
        }
        sqlite3_wal_hook(writer_.db, &SQLiteEngine::on_wal_commit, this);
      }
    }
    struct Prepared {
      Connection& c;
      Statement& s;
      const char* sql;
    };
    for (const Prepared& p : {
             Prepared{writer_, put_entry_, "INSERT OR REPLACE INTO entries VALUES(?, ?)"},
             Prepared{writer_, put_state_, "INSERT OR REPLACE INTO state VALUES(?, ?)"},
             Prepared{writer_, delete_entries_, "DELETE FROM entries WHERE key >= ? AND key < ?"},
             Prepared{writer_, delete_states_, "DELETE FROM state WHERE key >= ? AND key < ?"},
             Prepared{writer_, begin_, "BEGIN IMMEDIATE"},
             Prepared{writer_, commit_, "COMMIT"},
             Prepared{writer_, rollback_, "ROLLBACK"},
             Prepared{writer_, marker_, "UPDATE sync_marker SET n = n + 1 WHERE id = 1"},
             Prepared{writer_, sync_off_, "PRAGMA synchronous=OFF"},
             Prepared{writer_, sync_full_, "PRAGMA synchronous=FULL"},
             Prepared{reader_, read_entries_,
                      "SELECT key, record FROM entries WHERE key >= ? AND key < ? ORDER BY key"},
             Prepared{reader_, read_state_, "SELECT record FROM state WHERE key = ?"},
             Prepared{reader_, scan_entries_, "SELECT key, record FROM entries ORDER BY key"},
             Prepared{reader_, scan_states_, "SELECT key, record FROM state ORDER BY key"},
         }) {
      if (int rc = p.s.prepare(p.c.db, p.sql); rc != SQLITE_OK) {
        return from_sqlite(rc, p.c.db, std::string("cannot prepare ") + p.sql);
      }
    }
    return {};
  }

  std::unique_ptr<EngineBatch> new_batch() override { return std::make_unique<SQLiteBatch>(); }

  StorageStatus write(EngineBatch& batch) override {
    std::lock_guard lock(writer_.mu);
    sqlite3* db = writer_.db;
    // Without an fsync: the next sync() commits with one and covers this transaction.
    if (int rc = sync_off_.run(); rc != SQLITE_DONE) return from_sqlite(rc, db, "SQLite pragma");
    if (int rc = begin_.run(); rc != SQLITE_DONE) return from_sqlite(rc, db, "SQLite begin");
    for (const Op& op : static_cast<SQLiteBatch&>(batch).ops()) {
      int rc;
      if (const auto* put = std::get_if<PutOp>(&op)) {
        Statement& s = put->entry ? put_entry_ : put_state_;
        s.bind(1, put->key);
        s.bind(2, put->value);
        rc = s.run();
      } else {
        const auto& del = std::get<DeleteRangeOp>(op);
        Statement& s = del.entry ? delete_entries_ : delete_states_;
        s.bind(1, del.lo);
        s.bind(2, del.hi);
        rc = s.run();
      }
      if (rc != SQLITE_DONE) {
        StorageStatus st = from_sqlite(rc, db, "SQLite write failed");
        rollback_.run();
        return st;
      }
    }
    if (int rc = commit_.run(); rc != SQLITE_DONE) {
      StorageStatus st = from_sqlite(rc, db, "SQLite commit failed");
      rollback_.run();
      return st;
    }
    dirty_ = true;
    return {};
  }

  StorageStatus sync() override {
    std::lock_guard lock(writer_.mu);
    if (!dirty_) return {};
    sqlite3* db = writer_.db;
    // A commit under synchronous=FULL fsyncs the write-ahead log, and with it every
    // frame the unsynced commits before it appended.
    if (int rc = sync_full_.run(); rc != SQLITE_DONE) return from_sqlite(rc, db, "SQLite pragma");
    if (int rc = marker_.run(); rc != SQLITE_DONE) return from_sqlite(rc, db, "SQLite sync failed");
    dirty_ = false;
    // Checkpoint only here, under synchronous=FULL, so the database file is synced before
    // the log that held the same pages is reused.
    if (wal_frames_ >= kCheckpointFrames) {
      const int rc =
          sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        return from_sqlite(rc, db, "SQLite checkpoint failed");
      }
    }
    return {};
  }

  StorageStatus read_entries(PartitionId partition, raft::Index lo, raft::Index hi,
                             const Visitor& visit) override {
    const std::string lo_key = records::entry_key(partition, lo);
    const std::string hi_key = records::entry_key(partition, hi);
    std::lock_guard lock(reader_.mu);
    read_entries_.bind(1, lo_key);
    read_entries_.bind(2, hi_key);
    return visit_rows(read_entries_, visit, "SQLite read failed");
  }

  StorageStatus read_state(std::string_view key, std::string& value) override {
    std::lock_guard lock(reader_.mu);
    read_state_.bind(1, key);
    bool found = false;
    StorageStatus st = visit_rows(
        read_state_,
        [&](std::string_view, std::string_view v) {
          value.assign(v);
          found = true;
          return false;
        },
        "SQLite read failed", /*key_column=*/false);
    if (st.ok() && !found) return StorageStatus::not_found("no such state record");
    return st;
  }

  StorageStatus scan_entries(const Visitor& visit) override {
    std::lock_guard lock(reader_.mu);
    return visit_rows(scan_entries_, visit, "SQLite scan failed");
  }
  StorageStatus scan_states(const Visitor& visit) override {
    std::lock_guard lock(reader_.mu);
    return visit_rows(scan_states_, visit, "SQLite scan failed");
  }

 private:
  static int on_wal_commit(void* self, sqlite3*, const char*, int frames) {
    static_cast<SQLiteEngine*>(self)->wal_frames_ = frames;
    return SQLITE_OK;
  }

  static StorageStatus exec(sqlite3* db, const char* sql, const std::string& what) {
    char* message = nullptr;
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &message);
    if (rc == SQLITE_OK) return {};
    const std::string text = what + ": " + (message ? message : sqlite3_errstr(rc));
    sqlite3_free(message);
    return status_of(rc, text);
  }

  // Steps `s`, passing (key, record) — or ("", record) without a key column — to `visit`.
  StorageStatus visit_rows(Statement& s, const Visitor& visit, const std::string& what,
                           bool key_column = true) {
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
      const std::string_view key = key_column ? column_blob(s.get(), 0) : std::string_view();
      const std::string_view value = column_blob(s.get(), key_column ? 1 : 0);
      if (!visit(key, value)) {
        rc = SQLITE_DONE;
        break;
      }
    }
    StorageStatus st = from_sqlite(rc, reader_.db, what);
    sqlite3_reset(s.get());
    sqlite3_clear_bindings(s.get());
    return st;
  }

  // Declared before the statements so that they are finalized first.
  Connection writer_;
  Connection reader_;
  Statement put_entry_, put_state_, delete_entries_, delete_states_, begin_, commit_, rollback_,
      marker_, sync_off_, sync_full_;
  Statement read_entries_, read_state_, scan_entries_, scan_states_;
  bool dirty_ = false;
  int wal_frames_ = 0;
};

}  // namespace

StorageStatus SQLiteLogStore::open(const std::string& directory, const DurableStoreOptions& options,
                                   std::unique_ptr<SQLiteLogStore>& out) {
  DataDirectory dir;
  if (auto st = DataDirectory::open(directory, kEngineName, kFormatVersion, dir); !st.ok()) {
    return st;
  }
  auto engine = std::make_unique<SQLiteEngine>();
  if (auto st = engine->open(directory + "/synod.sqlite"); !st.ok()) return st;
  auto impl = std::make_unique<Impl>(std::move(dir), std::move(engine), options);
  if (auto st = impl->recover(); !st.ok()) return st;
  out.reset(new SQLiteLogStore(std::move(impl)));
  return {};
}

}  // namespace synod::storage
