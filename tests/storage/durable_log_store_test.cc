// The durable stores (RocksDB, SQLite): the conformance suite, then what only a store on
// disk has: the directory lock, the format file, record checksums, damaged partitions,
// damaged and truncated files, recovery of many partitions, and the snapshot kept for
// re-sending.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <thread>

#include "durable_store_kinds.h"
#include "records.h"
#include "storage_assertions.h"
#include "synod/storage/rocksdb_log_store.h"
#include "synod/storage/sqlite_log_store.h"

namespace synod::storage::testing {
namespace {

namespace fs = std::filesystem;
using raft::Bytes;
using raft::Entry;
using raft::HardState;
using raft::Index;
using raft::StorageError;
using raft::Term;

INSTANTIATE_TEST_SUITE_P(Durable, LogStoreConformance,
                         ::testing::Values(durable_kind("RocksDB"), durable_kind("SQLite")),
                         store_kind_name);

Entry entry(Index index, Term term, std::string data) {
  Entry e;
  e.index = index;
  e.term = term;
  e.tag = 7;
  e.data = Bytes(std::move(data));
  return e;
}

// A payload that can be found in the files: "<marker>-<partition>-<index>" padded.
std::string payload(PartitionId p, Index i) {
  std::string s = "SYNOD-PAYLOAD-" + std::to_string(p) + "-" + std::to_string(i) + "-";
  s.resize(64, 'q');
  return s;
}

std::vector<Entry> log_of(PartitionId p, Index lo, Index hi, Term term) {
  std::vector<Entry> out;
  for (Index i = lo; i <= hi; ++i) out.push_back(entry(i, term, payload(p, i)));
  return out;
}

// Writes entries 1..n of each partition in batches of `per_batch`, committing all but
// the last batch's entries; every batch synced.
void fill(LogStore& store, const std::vector<PartitionId>& partitions, Index n,
          Index per_batch = 10) {
  for (Index lo = 1; lo <= n; lo += per_batch) {
    const Index hi = std::min(n, lo + per_batch - 1);
    WriteBatch batch;
    for (PartitionId p : partitions) {
      PartitionWrite& w = batch.add(p);
      w.entries = log_of(p, lo, hi, 1);
      w.hard_state = HardState{1, 1, lo - 1};
    }
    ASSERT_OK(store.write(batch, true));
  }
}

std::vector<Entry> read_all(LogStore& store, PartitionId p) {
  auto view = store.open_partition(p);
  std::vector<Entry> out;
  if (view->last_index() >= view->first_index()) {
    EXPECT_EQ(view->entries(view->first_index(), view->last_index() + 1, SIZE_MAX, out),
              StorageError::None);
  }
  return out;
}

class DurableLogStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "synod-durable-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  const std::string& kind() const { return GetParam(); }
  std::string other_kind() const { return kind() == "RocksDB" ? "SQLite" : "RocksDB"; }

  void tamper_entry(PartitionId p, Index i, const std::function<void(std::string&)>& change) {
    testing::tamper_entry(kind(), dir_, p, i, change);
  }

  std::string dir_;
};

INSTANTIATE_TEST_SUITE_P(Engines, DurableLogStoreTest, ::testing::Values("RocksDB", "SQLite"),
                         [](const auto& info) { return info.param; });

TEST_P(DurableLogStoreTest, ASecondStoreOnTheSameDirectoryIsRefused) {
  auto store = open_durable(kind(), dir_);
  ASSERT_NE(store, nullptr);
  StorageStatus st = try_open_durable(kind(), dir_);
  EXPECT_EQ(st.code(), StorageCode::Locked) << st.to_string();
  EXPECT_NE(st.message().find(dir_), std::string::npos) << st.message();
  EXPECT_NE(st.message().find(std::to_string(getpid())), std::string::npos) << st.message();
  // Not even another engine may share it.
  EXPECT_EQ(try_open_durable(other_kind(), dir_).code(), StorageCode::Locked);
  // The first store is unharmed, and the lock goes with it.
  fill(*store, {1}, 3);
  store.reset();
  store = open_durable(kind(), dir_);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(read_all(*store, 1).size(), 3u);
}

TEST_P(DurableLogStoreTest, AnotherProcessIsRefusedTheDirectory) {
  auto store = open_durable(kind(), dir_);
  ASSERT_NE(store, nullptr);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The lock is checked before the database is touched, so the child opens nothing.
    const StorageStatus st = try_open_durable(kind(), dir_);
    _exit(st.code() == StorageCode::Locked ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the child was not refused with Locked";
}

TEST_P(DurableLogStoreTest, ADirectoryOfTheOtherEngineIsRefused) {
  { ASSERT_NE(open_durable(other_kind(), dir_), nullptr); }
  StorageStatus st = try_open_durable(kind(), dir_);
  EXPECT_EQ(st.code(), StorageCode::Unsupported) << st.to_string();
}

TEST_P(DurableLogStoreTest, ANewerOrUnknownFormatIsRefused) {
  {
    auto store = open_durable(kind(), dir_);
    ASSERT_NE(store, nullptr);
    fill(*store, {1}, 3);
  }
  const std::string engine = kind() == "RocksDB" ? "rocksdb" : "sqlite";
  std::ofstream(dir_ + "/synod.format", std::ios::trunc) << "synod-log-store " << engine << " 99\n";
  StorageStatus st = try_open_durable(kind(), dir_);
  EXPECT_EQ(st.code(), StorageCode::Unsupported) << st.to_string();
  EXPECT_NE(st.message().find("99"), std::string::npos) << st.message();

  std::ofstream(dir_ + "/synod.format", std::ios::trunc) << "something else entirely\n";
  st = try_open_durable(kind(), dir_);
  EXPECT_EQ(st.code(), StorageCode::Corruption) << st.to_string();

  std::ofstream(dir_ + "/synod.format", std::ios::trunc) << "synod-log-store " << engine << " 1\n";
  auto store = open_durable(kind(), dir_);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(read_all(*store, 1).size(), 3u);
}

TEST_P(DurableLogStoreTest, AFlippedByteInAnEntryStopsOnlyItsPartition) {
  {
    auto store = open_durable(kind(), dir_);
    ASSERT_NE(store, nullptr);
    fill(*store, {1, 2, 3}, 20);
  }
  tamper_entry(2, 7, [](std::string& v) { v[v.size() - 3] ^= 0x10; });

  std::vector<StorageWarning> warnings;
  std::unique_ptr<DurableLogStore> store;
  ASSERT_OK(try_open_durable(kind(), dir_, &store, &warnings));
  StorageStatus damage = store->partition_error(2);
  EXPECT_EQ(damage.code(), StorageCode::Corruption);
  EXPECT_NE(damage.message().find("partition 2"), std::string::npos) << damage.message();
  EXPECT_NE(damage.message().find("entry 7"), std::string::npos) << damage.message();
  ASSERT_EQ(store->damaged_partitions().size(), 1u);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].message.find("partition 2"), std::string::npos);
  // The partition as data too, for the node's log; no term: the log is not trusted.
  EXPECT_EQ(warnings[0].partition, std::optional<PartitionId>(2));
  EXPECT_EQ(warnings[0].term, std::nullopt);
  // The others are served whole, and the damaged one takes no writes.
  EXPECT_TRUE(store->partition_error(1).ok());
  EXPECT_EQ(read_all(*store, 1), log_of(1, 1, 20, 1));
  EXPECT_EQ(read_all(*store, 3), log_of(3, 1, 20, 1));
  WriteBatch batch;
  batch.add(2).entries = log_of(2, 21, 21, 1);
  EXPECT_EQ(store->write(batch, true).code(), StorageCode::Corruption);
  // It is still listed, so the runtime can report it instead of bootstrapping anew.
  EXPECT_EQ(store->partitions(), (std::vector<PartitionId>{1, 2, 3}));
}

TEST_P(DurableLogStoreTest, ARecordStoredUnderAnotherKeyIsDetected) {
  {
    auto store = open_durable(kind(), dir_);
    ASSERT_NE(store, nullptr);
    fill(*store, {1}, 10);
  }
  // A record that is valid for index 4 copied over index 5: its checksum covers its key.
  std::string record4;
  tamper_entry(1, 4, [&](std::string& v) { record4 = v; });
  tamper_entry(1, 5, [&](std::string& v) { v = record4; });
  std::unique_ptr<DurableLogStore> store;
  ASSERT_OK(try_open_durable(kind(), dir_, &store));
  StorageStatus damage = store->partition_error(1);
  EXPECT_EQ(damage.code(), StorageCode::Corruption);
  EXPECT_NE(damage.message().find("entry 5"), std::string::npos) << damage.message();
}

TEST_P(DurableLogStoreTest, ATruncatedRecordIsDetected) {
  {
    auto store = open_durable(kind(), dir_);
    ASSERT_NE(store, nullptr);
    fill(*store, {4}, 10);
  }
  tamper_entry(4, 10, [](std::string& v) { v.resize(3); });
  std::unique_ptr<DurableLogStore> store;
  ASSERT_OK(try_open_durable(kind(), dir_, &store));
  EXPECT_NE(store->partition_error(4).message().find("entry 10"), std::string::npos)
      << store->partition_error(4).to_string();
}

// Damage to the database's own files, anywhere: the store either refuses to open
// (Corruption), reports the partition damaged, or serves exactly what was written or
// a prefix of it (a torn tail the write-ahead log dropped). It never serves other data.
TEST_P(DurableLogStoreTest, DamagedFilesNeverServeWrongData) {
  std::vector<fs::path> files;
  std::vector<std::vector<Entry>> original;
  {
    auto store = open_durable(kind(), dir_);
    ASSERT_NE(store, nullptr);
    fill(*store, {1, 2}, 200);
    original = {read_all(*store, 1), read_all(*store, 2)};
  }
  const std::string pristine = dir_ + "-pristine";
  fs::copy(dir_, pristine, fs::copy_options::recursive);
  for (const auto& f : fs::recursive_directory_iterator(pristine)) {
    const std::string name = f.path().filename().string();
    if (f.is_regular_file() && fs::file_size(f.path()) > 0 && name != "synod.lock" &&
        name != "synod.format" && name != "LOCK" && name.find("LOG") == std::string::npos) {
      files.push_back(fs::relative(f.path(), pristine));
    }
  }
  ASSERT_FALSE(files.empty());
  std::mt19937_64 rng(20261201);
  int refused = 0, damaged = 0, intact = 0, prefix = 0;
  for (int round = 0; round < 40; ++round) {
    fs::remove_all(dir_);
    fs::copy(pristine, dir_, fs::copy_options::recursive);
    const fs::path victim = fs::path(dir_) / files[rng() % files.size()];
    const auto size = fs::file_size(victim);
    const bool truncate = round % 4 == 3;
    if (truncate) {
      fs::resize_file(victim, rng() % size);
    } else {
      std::fstream io(victim, std::ios::in | std::ios::out | std::ios::binary);
      const auto at = static_cast<std::streamoff>(rng() % size);
      io.seekg(at);
      char c = 0;
      io.get(c);
      io.seekp(at);
      io.put(static_cast<char>(c ^ (1 << (rng() % 8))));
    }
    std::unique_ptr<DurableLogStore> store;
    StorageStatus st = try_open_durable(kind(), dir_, &store);
    if (!st.ok()) {
      EXPECT_TRUE(st.code() == StorageCode::Corruption || st.code() == StorageCode::IoError ||
                  st.code() == StorageCode::Unsupported)
          << st.to_string();
      ++refused;
      continue;
    }
    bool any_damage = false;
    for (PartitionId p : {1, 2}) {
      if (!store->partition_error(p).ok()) {
        any_damage = true;
        continue;
      }
      std::vector<Entry> now = read_all(*store, p);
      const auto& before = original[p - 1];
      ASSERT_LE(now.size(), before.size()) << "round " << round << " " << victim;
      for (std::size_t i = 0; i < now.size(); ++i) {
        ASSERT_EQ(now[i], before[i]) << "round " << round << ": " << victim << " entry " << i + 1;
      }
      if (now.size() < before.size()) ++prefix;
    }
    any_damage ? ++damaged : ++intact;
  }
  fs::remove_all(pristine);
  RecordProperty("refused", refused);
  RecordProperty("damaged", damaged);
  RecordProperty("intact_or_prefix", intact);
}

TEST_P(DurableLogStoreTest, RecoversManyPartitionsWithCompactionAndSnapshots) {
  constexpr PartitionId kPartitions = 40;
  std::vector<PartitionId> ids;
  for (PartitionId p = 1; p <= kPartitions; ++p) ids.push_back(p);
  std::map<PartitionId, std::vector<Entry>> expected;
  {
    auto store = open_durable(kind(), dir_);
    ASSERT_NE(store, nullptr);
    fill(*store, ids, 60, 7);
    for (PartitionId p : ids) {
      if (p % 3 == 0) {
        ASSERT_OK(store->create_snapshot(p, 30, {}, Bytes("state-" + std::to_string(p))));
        WriteBatch batch;
        batch.add(p).compact_through = 25;
        ASSERT_OK(store->write(batch, true));
      }
      if (p % 5 == 0) {
        // A conflicting suffix from a new leader replaces 58..60 with 58..59.
        WriteBatch batch;
        batch.add(p).entries = log_of(p, 58, 59, 2);
        ASSERT_OK(store->write(batch, true));
      }
      if (p == 7) ASSERT_OK(store->remove_partition(p));
    }
    for (PartitionId p : store->partitions()) expected[p] = read_all(*store, p);
  }
  auto store = open_durable(kind(), dir_);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->damaged_partitions().empty());
  std::vector<PartitionId> listed = store->partitions();
  EXPECT_EQ(listed.size(), kPartitions - 1);
  for (PartitionId p : listed) {
    EXPECT_EQ(read_all(*store, p), expected[p]) << "partition " << p;
    auto view = store->open_partition(p);
    Term t = 0;
    if (p % 3 == 0) {
      EXPECT_EQ(view->first_index(), 26u);
      EXPECT_EQ(view->term(25, t), StorageError::None);
      EXPECT_EQ(t, 1u);
      raft::Snapshot snap;
      ASSERT_EQ(view->snapshot(snap), StorageError::None);
      EXPECT_EQ(snap.meta.index, 30u);
      EXPECT_EQ(snap.data.view(), "state-" + std::to_string(p));
    }
    EXPECT_EQ(view->last_index(), p % 5 == 0 ? 59u : 60u);
  }
}

// A crash in the middle of a log write leaves a torn record at the end of RocksDB's
// write-ahead log: the store opens with the whole batches before it, and no partition is
// reported damaged (RocksDB drops such a tail without a word; it cannot tell it from a
// write that never reached the disk).
TEST(RocksDBLogStore, ATornWriteAheadLogTailIsDropped) {
  std::string pattern = (fs::temp_directory_path() / "synod-torn-XXXXXX").string();
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  const std::string dir = pattern, image = pattern + "-image";
  {
    auto store = open_durable("RocksDB", dir);
    ASSERT_NE(store, nullptr);
    fill(*store, {1}, 20, 1);
    // The directory as a machine crash would leave it: the log holds every write.
    fs::copy(dir, image, fs::copy_options::recursive);
  }
  fs::path wal;
  for (const auto& f : fs::directory_iterator(fs::path(image) / "rocksdb")) {
    if (f.path().extension() == ".log" && fs::file_size(f.path()) > 0) wal = f.path();
  }
  ASSERT_FALSE(wal.empty());
  fs::resize_file(wal, fs::file_size(wal) - 5);
  fs::remove(fs::path(image) / "synod.lock");

  std::vector<StorageWarning> warnings;
  std::unique_ptr<DurableLogStore> store;
  ASSERT_OK(try_open_durable("RocksDB", image, &store, &warnings));
  const std::vector<Entry> log = read_all(*store, 1);
  EXPECT_EQ(log.size(), 19u) << "the last batch was torn; the ones before it are whole";
  EXPECT_EQ(log, log_of(1, 1, 19, 1));
  EXPECT_TRUE(store->partition_error(1).ok());
  EXPECT_TRUE(store->damaged_partitions().empty());
  store.reset();
  fs::remove_all(dir);
  fs::remove_all(image);
}

// A starting RawNode reads the configuration entries through conf_entries() instead of
// the whole log; the list must follow appends, overwrites, compaction and restarts.
TEST_P(DurableLogStoreTest, ListsTheConfigurationEntriesOfTheLog) {
  auto conf_at = [](Index i, Term t) {
    Entry e = entry(i, t, "conf-" + std::to_string(i));
    e.type = raft::EntryType::ConfChange;
    return e;
  };
  auto listed = [](LogStore& store, Index lo, Index hi) {
    std::vector<Entry> out;
    EXPECT_TRUE(store.open_partition(1)->conf_entries(lo, hi, out));
    std::vector<Index> indexes;
    for (const Entry& e : out) {
      EXPECT_EQ(e.type, raft::EntryType::ConfChange);
      EXPECT_EQ(e.data.view(), "conf-" + std::to_string(e.index));
      indexes.push_back(e.index);
    }
    return indexes;
  };
  {
    auto store = open_durable(kind(), dir_);
    ASSERT_NE(store, nullptr);
    std::vector<Entry> log = log_of(1, 1, 10, 1);
    log[1] = conf_at(2, 1);
    log[5] = conf_at(6, 1);
    log[8] = conf_at(9, 1);
    WriteBatch batch;
    batch.add(1).entries = log;
    ASSERT_OK(store->write(batch, true));
    EXPECT_EQ(listed(*store, 1, 11), (std::vector<Index>{2, 6, 9}));
    EXPECT_EQ(listed(*store, 3, 9), (std::vector<Index>{6}));
    // A new leader's entries from 8 on drop the change at 9 and bring one at 8.
    batch.clear();
    batch.add(1).entries = {conf_at(8, 2), entry(9, 2, "x")};
    ASSERT_OK(store->write(batch, true));
    EXPECT_EQ(listed(*store, 1, 11), (std::vector<Index>{2, 6, 8}));
    // Compaction through 3 takes the change at 2 with it.
    batch.clear();
    batch.add(1).hard_state = HardState{2, 0, 5};
    ASSERT_OK(store->write(batch, true));
    ASSERT_OK(store->create_snapshot(1, 3, {}, Bytes()));
    batch.clear();
    batch.add(1).compact_through = 3;
    ASSERT_OK(store->write(batch, true));
    EXPECT_EQ(listed(*store, 4, 10), (std::vector<Index>{6, 8}));
  }
  auto store = open_durable(kind(), dir_);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(listed(*store, 4, 10), (std::vector<Index>{6, 8}));
  EXPECT_EQ(listed(*store, 7, 10), (std::vector<Index>{8}));
}

TEST_P(DurableLogStoreTest, ARefusedWriteLeavesTheStoreWorking) {
  auto store = open_durable(kind(), dir_);
  ASSERT_NE(store, nullptr);
  fill(*store, {1}, 3);
  // A write the rules refuse is not a failure of the store.
  WriteBatch bad;
  bad.add(1).entries = log_of(1, 9, 9, 1);
  EXPECT_EQ(store->write(bad, true).code(), StorageCode::InvalidArgument);
  fill(*store, {2}, 3);
  EXPECT_EQ(read_all(*store, 2).size(), 3u);
}

// Raft asks for the snapshot every time it sends one to a follower: the first ask reads
// it from the database, a re-send reads nothing, and a newer snapshot (taken by the host
// or received from a leader), a removal and a reopen are each seen at once.
TEST_P(DurableLogStoreTest, ASnapshotIsReadFromTheDatabaseOnceUntilReplaced) {
  auto snapshot_of = [](raft::LogStorage& view) {
    raft::Snapshot snap;
    EXPECT_EQ(view.snapshot(snap), StorageError::None);
    return snap;
  };
  auto store = open_durable(kind(), dir_);
  ASSERT_NE(store, nullptr);
  fill(*store, {1}, 20);
  auto view = store->open_partition(1);
  EXPECT_TRUE(snapshot_of(*view).is_empty());
  raft::ConfState conf;
  conf.voters = {1, 2, 3};
  ASSERT_OK(store->create_snapshot(1, 5, conf, Bytes("state-5")));
  EXPECT_EQ(store->snapshot_reads(), 0u);

  const raft::Snapshot first = snapshot_of(*view);
  const raft::Snapshot again = snapshot_of(*view);
  EXPECT_EQ(first.meta, (raft::SnapshotMeta{5, 1, conf}));
  EXPECT_EQ(first.data.view(), "state-5");
  EXPECT_EQ(again, first);
  EXPECT_EQ(store->snapshot_reads(), 1u);
  // The two share one buffer: handing the snapshot out again copies none of its data.
  EXPECT_EQ(again.data.view().data(), first.data.view().data());
  // Another view of the partition shares what the first one read.
  EXPECT_EQ(snapshot_of(*store->open_partition(1)), first);
  EXPECT_EQ(store->snapshot_reads(), 1u);

  // A snapshot the host takes replaces the kept one.
  ASSERT_OK(store->create_snapshot(1, 8, {}, Bytes("state-8")));
  EXPECT_EQ(snapshot_of(*view).data.view(), "state-8");
  EXPECT_EQ(snapshot_of(*view).meta.index, 8u);
  EXPECT_EQ(store->snapshot_reads(), 2u);

  // So does one received from a leader.
  WriteBatch batch;
  batch.add(1).snapshot = raft::Snapshot{{30, 2, conf}, Bytes("state-30")};
  ASSERT_OK(store->write(batch, false));
  EXPECT_EQ(snapshot_of(*view), (raft::Snapshot{{30, 2, conf}, Bytes("state-30")}));
  EXPECT_EQ(snapshot_of(*view).data.view(), "state-30");
  EXPECT_EQ(store->snapshot_reads(), 3u);

  // A reopened store reads it from the database again.
  view.reset();
  store.reset();
  store = open_durable(kind(), dir_);
  ASSERT_NE(store, nullptr);
  view = store->open_partition(1);
  EXPECT_EQ(store->snapshot_reads(), 0u);
  EXPECT_EQ(snapshot_of(*view), (raft::Snapshot{{30, 2, conf}, Bytes("state-30")}));
  EXPECT_EQ(snapshot_of(*view).data.view(), "state-30");
  EXPECT_EQ(store->snapshot_reads(), 1u);

  // A removed partition keeps nothing: made again with a snapshot at the same index, it
  // serves the new one.
  ASSERT_OK(store->remove_partition(1));
  EXPECT_TRUE(snapshot_of(*view).is_empty());
  batch.clear();
  batch.add(1).snapshot = raft::Snapshot{{30, 2, conf}, Bytes("remade-30")};
  ASSERT_OK(store->write(batch, true));
  EXPECT_EQ(snapshot_of(*view).data.view(), "remade-30");
  EXPECT_EQ(snapshot_of(*view).data.view(), "remade-30");
  EXPECT_EQ(store->snapshot_reads(), 2u);
  EXPECT_TRUE(store->partition_error(1).ok());
}

// A partition's Raft reads the snapshot while the host takes newer ones on another
// thread: every read is a snapshot that was stored, whole (its data matches its index),
// never older than one read before, and the partition is never taken for damaged.
TEST_P(DurableLogStoreTest, SnapshotReadsFollowSnapshotsTakenMeanwhile) {
  constexpr Index kSnapshots = 60;
  auto store = open_durable(kind(), dir_);
  ASSERT_NE(store, nullptr);
  fill(*store, {1}, kSnapshots + 10);
  auto data_at = [](Index i) { return "state-" + std::to_string(i); };
  std::atomic<bool> failed{false};
  std::atomic<bool> written{false};
  auto view = store->open_partition(1);
  std::thread reader([&] {
    Index seen = 0;
    while (!written.load() && !failed.load()) {
      raft::Snapshot snap;
      const StorageError err = view->snapshot(snap);
      const bool whole = snap.is_empty() || snap.data.view() == data_at(snap.meta.index);
      if (err != StorageError::None || !whole || snap.meta.index < seen) {
        ADD_FAILURE() << "read " << static_cast<int>(err) << " at index " << snap.meta.index
                      << " after " << seen << ", data " << snap.data.view();
        failed = true;
      }
      seen = snap.meta.index;
    }
  });
  for (Index i = 1; i <= kSnapshots && !failed.load(); ++i) {
    const StorageStatus st = store->create_snapshot(1, i, {}, Bytes(data_at(i)));
    if (!st.ok()) {
      ADD_FAILURE() << st.to_string();
      failed = true;
    }
  }
  written = true;
  reader.join();
  raft::Snapshot last;
  EXPECT_EQ(view->snapshot(last), StorageError::None);
  EXPECT_EQ(last.meta.index, kSnapshots);
  EXPECT_EQ(last.data.view(), data_at(kSnapshots));
  EXPECT_TRUE(store->partition_error(1).ok()) << store->partition_error(1).to_string();
  // The reader asks far more often than snapshots are taken (each waits for a sync). Each
  // snapshot is read once, plus at most once more when a newer one is written during
  // that read and the read is not kept.
  EXPECT_LE(store->snapshot_reads(), 2 * kSnapshots);
}

}  // namespace
}  // namespace synod::storage::testing
