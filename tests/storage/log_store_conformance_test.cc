// The LogStore conformance cases. See log_store_conformance.h for how a store joins.
#include "log_store_conformance.h"

#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

#include "storage_assertions.h"
#include "synod/raft/raw_node.h"

namespace synod::storage::testing {
namespace {

using raft::Bytes;
using raft::ConfState;
using raft::Entry;
using raft::HardState;
using raft::Index;
using raft::Snapshot;
using raft::StorageError;
using raft::Term;

Entry entry(Index index, Term term, std::string data = "ab") {
  Entry e;
  e.index = index;
  e.term = term;
  e.tag = static_cast<std::uint32_t>(index * 7);
  e.data = Bytes(std::move(data));
  return e;
}

// Entries lo..hi (inclusive), all in `term`.
std::vector<Entry> entries(Index lo, Index hi, Term term) {
  std::vector<Entry> out;
  for (Index i = lo; i <= hi; ++i) out.push_back(entry(i, term));
  return out;
}

ConfState conf_of(std::vector<raft::NodeId> voters) {
  ConfState conf;
  conf.voters = std::move(voters);
  return conf;
}

WriteBatch batch_of(PartitionWrite write) {
  WriteBatch batch;
  batch.add(std::move(write));
  return batch;
}

StorageStatus write_one(LogStore& store, PartitionWrite write, bool sync = true) {
  return store.write(batch_of(std::move(write)), sync);
}

PartitionWrite append(PartitionId partition, std::vector<Entry> log,
                      std::optional<HardState> hs = std::nullopt) {
  PartitionWrite w;
  w.partition = partition;
  w.entries = std::move(log);
  w.hard_state = hs;
  return w;
}

// Everything a store shows about one partition, for comparing before and after.
struct Image {
  HardState hard_state;
  Snapshot snapshot;
  Index first = 0;
  Index last = 0;
  Term term_before_first = 0;
  std::vector<Entry> log;
  Index applied_floor = 0;
  friend bool operator==(const Image&, const Image&) = default;
};

void PrintTo(const Image& m, std::ostream* os) {
  *os << "{hs " << m.hard_state.term << "/" << m.hard_state.vote << "/" << m.hard_state.commit
      << ", snapshot " << m.snapshot.meta.index << "@" << m.snapshot.meta.term << ", log ["
      << m.first << ", " << m.last << "], floor " << m.applied_floor << "}";
}

Image image(LogStore& store, PartitionId partition) {
  auto view = store.open_partition(partition);
  Image m;
  m.hard_state = view->hard_state();
  EXPECT_EQ(view->snapshot(m.snapshot), StorageError::None);
  EXPECT_EQ(view->snapshot_meta(), m.snapshot.meta);
  m.first = view->first_index();
  m.last = view->last_index();
  EXPECT_EQ(view->term(m.first - 1, m.term_before_first), StorageError::None);
  if (m.last >= m.first) {
    EXPECT_EQ(view->entries(m.first, m.last + 1, SIZE_MAX, m.log), StorageError::None);
  }
  m.applied_floor = store.applied_floor(partition);
  return m;
}

std::vector<Term> terms(const raft::LogStorage& view) {
  std::vector<Term> out;
  for (Index i = view.first_index(); i <= view.last_index(); ++i) {
    Term t = 0;
    EXPECT_EQ(view.term(i, t), StorageError::None);
    out.push_back(t);
  }
  return out;
}

// Persists every Ready of `node` into `store` (synced), as a runtime would, until idle.
void run_until_idle(raft::RawNode& node, LogStore& store, PartitionId partition) {
  for (int round = 0; round < 100 && node.has_ready(); ++round) {
    raft::Ready rd = node.ready();
    WriteBatch batch;
    PartitionWrite& write = batch.add(partition);
    write.snapshot = rd.snapshot;
    write.entries = rd.entries;
    write.hard_state = rd.hard_state;
    ASSERT_OK(store.write(batch, true));
    node.advance();
  }
  ASSERT_FALSE(node.has_ready());
}

}  // namespace

void LogStoreConformance::SetUp() {
  std::string pattern = (std::filesystem::temp_directory_path() / "synod-storage-XXXXXX").string();
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  dir_ = pattern;
  store_ = GetParam().open(dir_);
  ASSERT_NE(store_, nullptr);
}

void LogStoreConformance::TearDown() {
  store_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void LogStoreConformance::reopen() {
  store_ = GetParam().reopen(std::move(store_), dir_);
  ASSERT_NE(store_, nullptr);
}

void LogStoreConformance::crash() {
  store_ = GetParam().crash(std::move(store_), dir_);
  ASSERT_NE(store_, nullptr);
}

TEST_P(LogStoreConformance, StartsEmpty) {
  EXPECT_TRUE(store_->partitions().empty());
  auto view = store_->open_partition(3);
  ASSERT_NE(view, nullptr);
  EXPECT_EQ(view->first_index(), 1u);
  EXPECT_EQ(view->last_index(), 0u);
  EXPECT_TRUE(view->hard_state().is_empty());
  Term t = 9;
  EXPECT_EQ(view->term(0, t), StorageError::None);
  EXPECT_EQ(t, 0u);
  EXPECT_EQ(view->term(1, t), StorageError::Unavailable);
  Snapshot snap;
  EXPECT_EQ(view->snapshot(snap), StorageError::None);
  EXPECT_TRUE(snap.is_empty());
  EXPECT_EQ(store_->applied_floor(3), 0u);
  // Opening a view stores nothing.
  EXPECT_TRUE(store_->partitions().empty());
}

TEST_P(LogStoreConformance, AppendAndReadBack) {
  std::vector<Entry> log = entries(1, 5, 1);
  log[2].type = raft::EntryType::ConfChange;
  log[3].data = Bytes(std::string(1000, 'x'));
  ASSERT_OK(write_one(*store_, append(1, log)));

  auto view = store_->open_partition(1);
  EXPECT_EQ(view->first_index(), 1u);
  EXPECT_EQ(view->last_index(), 5u);
  std::vector<Entry> out;
  ASSERT_EQ(view->entries(1, 6, SIZE_MAX, out), StorageError::None);
  EXPECT_EQ(out, log);

  // A byte budget stops early but always returns one entry.
  out.clear();
  ASSERT_EQ(view->entries(1, 6, 60, out), StorageError::None);
  EXPECT_EQ(out.size(), 2u);
  out.clear();
  ASSERT_EQ(view->entries(4, 6, 0, out), StorageError::None);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], log[3]);

  out.clear();
  EXPECT_EQ(view->entries(0, 2, SIZE_MAX, out), StorageError::Compacted);
  EXPECT_EQ(view->entries(2, 7, SIZE_MAX, out), StorageError::Unavailable);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(terms(*view), (std::vector<Term>{1, 1, 1, 1, 1}));
}

TEST_P(LogStoreConformance, AppendReplacesTheConflictingSuffix) {
  ASSERT_OK(write_one(*store_, append(1, entries(1, 5, 1))));
  // New entries at 3..4 in term 2 drop the old 3..5, including the one past them.
  ASSERT_OK(write_one(*store_, append(1, entries(3, 4, 2))));
  auto view = store_->open_partition(1);
  EXPECT_EQ(view->last_index(), 4u);
  EXPECT_EQ(terms(*view), (std::vector<Term>{1, 1, 2, 2}));
  ASSERT_OK(write_one(*store_, append(1, entries(5, 6, 3))));
  EXPECT_EQ(terms(*view), (std::vector<Term>{1, 1, 2, 2, 3, 3}));
  // Appending right after the last entry extends the log.
  ASSERT_OK(write_one(*store_, append(1, {entry(7, 3, "z")})));
  std::vector<Entry> out;
  ASSERT_EQ(view->entries(7, 8, SIZE_MAX, out), StorageError::None);
  EXPECT_EQ(out, (std::vector<Entry>{entry(7, 3, "z")}));
}

TEST_P(LogStoreConformance, HardState) {
  ASSERT_OK(write_one(*store_, append(1, entries(1, 3, 1), HardState{1, 2, 0})));
  auto view = store_->open_partition(1);
  EXPECT_EQ(view->hard_state(), (HardState{1, 2, 0}));
  PartitionWrite w;
  w.partition = 1;
  w.hard_state = HardState{4, 0, 3};
  ASSERT_OK(write_one(*store_, w));
  EXPECT_EQ(view->hard_state(), (HardState{4, 0, 3}));
  w.hard_state = HardState{4, 3, 3};
  ASSERT_OK(write_one(*store_, w));
  EXPECT_EQ(view->hard_state(), (HardState{4, 3, 3}));
  // A write without a hard state keeps it.
  ASSERT_OK(write_one(*store_, append(1, entries(4, 4, 4))));
  EXPECT_EQ(view->hard_state(), (HardState{4, 3, 3}));
}

TEST_P(LogStoreConformance, SnapshotInstallReplacesTheLog) {
  ASSERT_OK(write_one(*store_, append(1, entries(1, 5, 1), HardState{1, 0, 2})));
  Snapshot snap;
  snap.meta = {10, 3, conf_of({1, 2, 3})};
  snap.data = Bytes("state at 10");
  // As a Ready carries it: the snapshot, the entries after it and the hard state.
  PartitionWrite w = append(1, entries(11, 12, 3), HardState{3, 0, 10});
  w.snapshot = snap;
  ASSERT_OK(write_one(*store_, w));

  auto view = store_->open_partition(1);
  EXPECT_EQ(view->first_index(), 11u);
  EXPECT_EQ(view->last_index(), 12u);
  EXPECT_EQ(view->snapshot_meta(), snap.meta);
  Snapshot out;
  ASSERT_EQ(view->snapshot(out), StorageError::None);
  EXPECT_EQ(out, snap);
  Term t = 0;
  ASSERT_EQ(view->term(10, t), StorageError::None);
  EXPECT_EQ(t, 3u);
  EXPECT_EQ(view->term(5, t), StorageError::Compacted);
  std::vector<Entry> log;
  EXPECT_EQ(view->entries(5, 6, SIZE_MAX, log), StorageError::Compacted);
  ASSERT_EQ(view->entries(11, 13, SIZE_MAX, log), StorageError::None);
  EXPECT_EQ(log, entries(11, 12, 3));
  EXPECT_EQ(view->hard_state(), (HardState{3, 0, 10}));

  // A snapshot alone leaves an empty log that ends at it.
  Snapshot later;
  later.meta = {20, 4, conf_of({1})};
  PartitionWrite only;
  only.partition = 1;
  only.snapshot = later;
  ASSERT_OK(write_one(*store_, only));
  EXPECT_EQ(view->first_index(), 21u);
  EXPECT_EQ(view->last_index(), 20u);
  ASSERT_EQ(view->term(20, t), StorageError::None);
  EXPECT_EQ(t, 4u);
}

TEST_P(LogStoreConformance, CreateSnapshotKeepsTheLogAndCompactionDropsThePrefix) {
  std::vector<Entry> log;
  for (Index i = 1; i <= 10; ++i) log.push_back(entry(i, 1 + i / 3));
  ASSERT_OK(write_one(*store_, append(1, log, HardState{4, 1, 8})));
  ASSERT_OK(store_->create_snapshot(1, 6, conf_of({1, 2}), Bytes("six")));

  auto view = store_->open_partition(1);
  EXPECT_EQ(view->snapshot_meta(), (raft::SnapshotMeta{6, 3, conf_of({1, 2})}));
  Snapshot snap;
  ASSERT_EQ(view->snapshot(snap), StorageError::None);
  EXPECT_EQ(snap.data, Bytes("six"));
  EXPECT_EQ(view->first_index(), 1u);
  EXPECT_EQ(view->last_index(), 10u);

  PartitionWrite compact;
  compact.partition = 1;
  compact.compact_through = 4;
  ASSERT_OK(write_one(*store_, compact));
  EXPECT_EQ(view->first_index(), 5u);
  EXPECT_EQ(view->last_index(), 10u);
  Term t = 0;
  ASSERT_EQ(view->term(4, t), StorageError::None);
  EXPECT_EQ(t, 2u);
  EXPECT_EQ(view->term(3, t), StorageError::Compacted);
  std::vector<Entry> out;
  EXPECT_EQ(view->entries(4, 6, SIZE_MAX, out), StorageError::Compacted);
  ASSERT_EQ(view->entries(5, 11, SIZE_MAX, out), StorageError::None);
  EXPECT_EQ(out, std::vector<Entry>(log.begin() + 4, log.end()));
  EXPECT_EQ(view->snapshot_meta().index, 6u);

  // At or below the compaction point nothing changes.
  const Image before = image(*store_, 1);
  compact.compact_through = 2;
  ASSERT_OK(write_one(*store_, compact));
  compact.compact_through = 4;
  ASSERT_OK(write_one(*store_, compact));
  EXPECT_EQ(image(*store_, 1), before);

  // Up to the snapshot itself.
  compact.compact_through = 6;
  ASSERT_OK(write_one(*store_, compact));
  EXPECT_EQ(view->first_index(), 7u);
  ASSERT_EQ(view->term(6, t), StorageError::None);
  EXPECT_EQ(t, 3u);
}

// The runtime records only a snapshot's metadata here; its data lives in the SnapshotStore.
TEST_P(LogStoreConformance, CreateSnapshotWithEmptyDataRecordsTheMetadata) {
  std::vector<Entry> log;
  for (Index i = 1; i <= 8; ++i) log.push_back(entry(i, 2));
  ASSERT_OK(write_one(*store_, append(1, log, HardState{2, 1, 8}), true));
  ASSERT_OK(store_->create_snapshot(1, 5, conf_of({1, 2, 3}), Bytes()));
  PartitionWrite compact;
  compact.partition = 1;
  compact.compact_through = 5;
  ASSERT_OK(write_one(*store_, compact, true));
  reopen();

  auto view = store_->open_partition(1);
  const raft::SnapshotMeta meta{5, 2, conf_of({1, 2, 3})};
  EXPECT_EQ(view->snapshot_meta(), meta);
  Snapshot snap;
  ASSERT_EQ(view->snapshot(snap), StorageError::None);
  EXPECT_EQ(snap.meta, meta);
  EXPECT_TRUE(snap.data.empty());
  EXPECT_EQ(view->first_index(), 6u);
  EXPECT_EQ(view->last_index(), 8u);
}

TEST_P(LogStoreConformance, CompactingTheWholeLogLeavesItReadyToGrow) {
  ASSERT_OK(write_one(*store_, append(1, entries(1, 6, 2), HardState{2, 0, 6})));
  ASSERT_OK(store_->create_snapshot(1, 6, conf_of({1}), Bytes("s")));
  PartitionWrite w;
  w.partition = 1;
  w.compact_through = 6;
  ASSERT_OK(write_one(*store_, w));
  auto view = store_->open_partition(1);
  EXPECT_EQ(view->first_index(), 7u);
  EXPECT_EQ(view->last_index(), 6u);
  ASSERT_OK(write_one(*store_, append(1, entries(7, 8, 3))));
  EXPECT_EQ(terms(*view), (std::vector<Term>{3, 3}));
}

TEST_P(LogStoreConformance, AppliedFloor) {
  EXPECT_EQ(store_->applied_floor(1), 0u);
  PartitionWrite w = append(1, entries(1, 5, 1), HardState{1, 0, 5});
  w.applied_floor = 3;
  ASSERT_OK(write_one(*store_, w));
  EXPECT_EQ(store_->applied_floor(1), 3u);
  PartitionWrite floor_only;
  floor_only.partition = 1;
  floor_only.applied_floor = 5;
  ASSERT_OK(write_one(*store_, floor_only));
  EXPECT_EQ(store_->applied_floor(1), 5u);
  // Writes without a floor keep it; other partitions have their own.
  ASSERT_OK(write_one(*store_, append(1, entries(6, 6, 1))));
  EXPECT_EQ(store_->applied_floor(1), 5u);
  EXPECT_EQ(store_->applied_floor(2), 0u);
}

TEST_P(LogStoreConformance, PartitionsInOneBatchAreIndependent) {
  WriteBatch batch;
  batch.add(append(1, entries(1, 4, 1), HardState{1, 1, 2}));
  batch.add(append(2, entries(1, 2, 5), HardState{5, 2, 1}));
  PartitionWrite& third = batch.add(3);
  third.snapshot = Snapshot{{7, 2, conf_of({1, 2, 3})}, Bytes("p3")};
  third.applied_floor = 7;
  EXPECT_EQ(batch.entry_count(), 6u);
  ASSERT_OK(store_->write(batch, true));

  const Image one = image(*store_, 1);
  EXPECT_EQ(one.last, 4u);
  EXPECT_EQ(one.hard_state, (HardState{1, 1, 2}));
  EXPECT_EQ(one.applied_floor, 0u);
  const Image two = image(*store_, 2);
  EXPECT_EQ(two.log, entries(1, 2, 5));
  EXPECT_EQ(two.hard_state, (HardState{5, 2, 1}));
  const Image three = image(*store_, 3);
  EXPECT_EQ(three.first, 8u);
  EXPECT_EQ(three.snapshot.data, Bytes("p3"));
  EXPECT_EQ(three.applied_floor, 7u);
  EXPECT_TRUE(three.hard_state.is_empty());

  // Changing one leaves the others alone.
  ASSERT_OK(write_one(*store_, append(2, entries(2, 3, 6))));
  EXPECT_EQ(image(*store_, 1), one);
  EXPECT_EQ(image(*store_, 3), three);
}

TEST_P(LogStoreConformance, WritesOfOnePartitionInOneBatchApplyInOrder) {
  WriteBatch batch;
  batch.add(append(1, entries(1, 3, 1)));
  batch.add(append(1, entries(3, 4, 2), HardState{2, 0, 4}));  // checked after the first
  PartitionWrite& floor = batch.add(1);
  floor.applied_floor = 4;
  ASSERT_OK(store_->write(batch, true));
  auto view = store_->open_partition(1);
  EXPECT_EQ(terms(*view), (std::vector<Term>{1, 1, 2, 2}));
  EXPECT_EQ(view->hard_state(), (HardState{2, 0, 4}));
  EXPECT_EQ(store_->applied_floor(1), 4u);
}

TEST_P(LogStoreConformance, PartitionsListsEveryPartitionWithStoredState) {
  WriteBatch batch;
  batch.add(append(9, entries(1, 1, 1)));
  batch.add(append(2, {}, HardState{1, 0, 0}));
  batch.add(4);  // an empty write stores nothing
  PartitionWrite& floor = batch.add(0);
  floor.applied_floor = 0;
  ASSERT_OK(store_->write(batch, true));
  EXPECT_EQ(store_->partitions(), (std::vector<PartitionId>{0, 2, 9}));
}

TEST_P(LogStoreConformance, RemovePartitionDeletesOnlyThatPartition) {
  WriteBatch batch;
  PartitionWrite& one = batch.add(append(1, entries(1, 4, 1), HardState{1, 1, 4}));
  one.applied_floor = 2;
  batch.add(append(2, entries(1, 2, 1)));
  ASSERT_OK(store_->write(batch, true));
  ASSERT_OK(store_->create_snapshot(1, 3, conf_of({1}), Bytes("s")));
  const Image two = image(*store_, 2);
  auto view = store_->open_partition(1);

  ASSERT_OK(store_->remove_partition(1));
  EXPECT_EQ(store_->partitions(), (std::vector<PartitionId>{2}));
  Image empty;
  empty.first = 1;
  EXPECT_EQ(image(*store_, 1), empty);
  EXPECT_EQ(view->last_index(), 0u);  // a view opened earlier sees the removal too
  EXPECT_EQ(store_->applied_floor(1), 0u);
  EXPECT_EQ(image(*store_, 2), two);
  // Removing again is not an error; the id can start over from an empty log.
  ASSERT_OK(store_->remove_partition(1));
  ASSERT_OK(write_one(*store_, append(1, entries(1, 1, 7))));
  EXPECT_EQ(terms(*view), (std::vector<Term>{7}));
}

TEST_P(LogStoreConformance, ViewFollowsLaterWrites) {
  auto view = store_->open_partition(5);
  ASSERT_OK(write_one(*store_, append(5, entries(1, 2, 1), HardState{1, 0, 1})));
  EXPECT_EQ(view->last_index(), 2u);
  EXPECT_EQ(view->hard_state(), (HardState{1, 0, 1}));
  // Unsynced writes are visible to readers too.
  ASSERT_OK(write_one(*store_, append(5, entries(3, 3, 1)), false));
  EXPECT_EQ(view->last_index(), 3u);
}

TEST_P(LogStoreConformance, ReopenPreservesSyncedState) {
  WriteBatch batch;
  PartitionWrite& one = batch.add(append(1, entries(1, 8, 2), HardState{2, 3, 7}));
  one.applied_floor = 6;
  PartitionWrite& two = batch.add(2);
  two.snapshot = Snapshot{{40, 5, conf_of({1, 2, 3})}, Bytes("forty")};
  two.entries = entries(41, 43, 6);
  two.hard_state = HardState{6, 1, 41};
  batch.add(append(0, {entry(1, 1, "")}, HardState{1, 0, 1}));
  ASSERT_OK(store_->write(batch, true));
  ASSERT_OK(store_->create_snapshot(1, 5, conf_of({1, 2}), Bytes("five")));
  PartitionWrite compact;
  compact.partition = 1;
  compact.compact_through = 3;
  ASSERT_OK(write_one(*store_, compact));
  ASSERT_OK(write_one(*store_, append(3, entries(1, 1, 1))));
  ASSERT_OK(store_->remove_partition(3));

  const Image images[] = {image(*store_, 0), image(*store_, 1), image(*store_, 2)};
  reopen();
  EXPECT_EQ(store_->partitions(), (std::vector<PartitionId>{0, 1, 2}));
  for (PartitionId p = 0; p < 3; ++p) EXPECT_EQ(image(*store_, p), images[p]) << "partition " << p;
  EXPECT_EQ(image(*store_, 1).first, 4u);
  EXPECT_EQ(image(*store_, 1).snapshot.meta.index, 5u);

  // The reopened store takes further writes.
  ASSERT_OK(write_one(*store_, append(1, entries(9, 9, 3))));
  EXPECT_EQ(image(*store_, 1).last, 9u);
}

TEST_P(LogStoreConformance, ReopenKeepsUnsyncedWritesFollowedBySync) {
  ASSERT_OK(write_one(*store_, append(1, entries(1, 3, 1)), false));
  ASSERT_OK(store_->sync());
  const Image one = image(*store_, 1);
  reopen();
  EXPECT_EQ(image(*store_, 1), one);
}

TEST_P(LogStoreConformance, CrashLosesUnsyncedWritesAndKeepsSyncedOnes) {
  if (!GetParam().crash) GTEST_SKIP() << GetParam().name << " cannot simulate a crash";
  WriteBatch synced;
  synced.add(append(1, entries(1, 3, 1), HardState{1, 1, 2}));
  synced.add(append(2, entries(1, 2, 1)));
  ASSERT_OK(store_->write(synced, true));
  const Image one = image(*store_, 1);
  const Image two = image(*store_, 2);

  WriteBatch unsynced;
  PartitionWrite& w = unsynced.add(append(1, entries(3, 5, 2), HardState{2, 0, 4}));
  w.applied_floor = 2;
  unsynced.add(append(2, entries(2, 2, 3)));
  unsynced.add(append(3, entries(1, 1, 1)));
  ASSERT_OK(store_->write(unsynced, false));
  // Readers see the unsynced state until the crash.
  EXPECT_EQ(image(*store_, 1).last, 5u);
  EXPECT_EQ(store_->partitions(), (std::vector<PartitionId>{1, 2, 3}));

  crash();
  EXPECT_EQ(image(*store_, 1), one);
  EXPECT_EQ(image(*store_, 2), two);
  EXPECT_EQ(store_->partitions(), (std::vector<PartitionId>{1, 2}));
}

TEST_P(LogStoreConformance, CrashKeepsUnsyncedWritesThatASyncFollowed) {
  if (!GetParam().crash) GTEST_SKIP() << GetParam().name << " cannot simulate a crash";
  // Every durable operation makes the unsynced writes before it durable as well.
  ASSERT_OK(write_one(*store_, append(1, entries(1, 2, 1)), false));
  ASSERT_OK(write_one(*store_, append(2, entries(1, 1, 1), HardState{1, 0, 1}), true));
  ASSERT_OK(write_one(*store_, append(1, entries(3, 3, 1)), false));
  ASSERT_OK(store_->create_snapshot(2, 1, conf_of({1}), Bytes("x")));
  ASSERT_OK(write_one(*store_, append(1, entries(4, 4, 1)), false));
  ASSERT_OK(store_->sync());
  ASSERT_OK(write_one(*store_, append(1, entries(5, 5, 1)), false));
  ASSERT_OK(store_->remove_partition(9));
  ASSERT_OK(write_one(*store_, append(1, entries(6, 6, 1)), false));
  crash();
  EXPECT_EQ(image(*store_, 1).last, 5u);
  EXPECT_EQ(image(*store_, 2).snapshot.meta.index, 1u);
}

TEST_P(LogStoreConformance, RawNodeRecoversFromTheReopenedStore) {
  constexpr PartitionId kPartition = 7;
  ASSERT_OK(store_->write(batch_of(bootstrap_write(kPartition, {1})), true));
  raft::Config config;
  config.id = 1;
  std::string error;
  auto view = store_->open_partition(kPartition);
  auto node = raft::RawNode::create(config, *view, &error);
  ASSERT_NE(node, nullptr) << error;
  node->campaign();
  run_until_idle(*node, *store_, kPartition);
  ASSERT_EQ(node->role(), raft::Role::Leader);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(node->propose({0, Bytes("cmd" + std::to_string(i))}).status, raft::RaftStatus::Ok);
    run_until_idle(*node, *store_, kPartition);
  }
  const raft::RaftState before = node->state();
  ASSERT_EQ(before.hard_state.commit, before.last_index);
  ASSERT_GE(before.last_index, 5u);  // bootstrap, the new term's no-op, three commands
  // The host durably applied all but the last command.
  PartitionWrite floor;
  floor.partition = kPartition;
  floor.applied_floor = before.last_index - 1;
  ASSERT_OK(write_one(*store_, floor));
  std::vector<Entry> log;
  ASSERT_EQ(view->entries(1, before.last_index + 1, SIZE_MAX, log), StorageError::None);
  node.reset();
  view.reset();

  reopen();
  EXPECT_EQ(store_->partitions(), (std::vector<PartitionId>{kPartition}));
  view = store_->open_partition(kPartition);
  config.applied = store_->applied_floor(kPartition);
  node = raft::RawNode::create(config, *view, &error);
  ASSERT_NE(node, nullptr) << error;
  const raft::RaftState after = node->state();
  EXPECT_EQ(after.hard_state, before.hard_state);
  EXPECT_EQ(after.last_index, before.last_index);
  EXPECT_EQ(after.conf.voters, (std::vector<raft::NodeId>{1}));
  std::vector<Entry> recovered;
  ASSERT_EQ(view->entries(1, after.last_index + 1, SIZE_MAX, recovered), StorageError::None);
  EXPECT_EQ(recovered, log);
  // Only the entry above the applied floor is delivered again.
  ASSERT_TRUE(node->has_ready());
  raft::Ready rd = node->ready();
  ASSERT_EQ(rd.committed_entries.size(), 1u);
  EXPECT_EQ(rd.committed_entries[0], log.back());
  node->advance();
  // And the group carries on: it elects itself again and commits in a higher term.
  node->campaign();
  run_until_idle(*node, *store_, kPartition);
  EXPECT_EQ(node->role(), raft::Role::Leader);
  EXPECT_GT(node->term(), before.hard_state.term);
}

// Each case is a write that breaks one rule, made against the same stored state.
struct BadWrite {
  const char* what;
  std::function<void(PartitionWrite&)> fill;
};

TEST_P(LogStoreConformance, BadWritesAreRefusedAndChangeNothing) {
  // Partition 1: entries 1..6 in terms 1,1,2,2,3,3; hard state {3, vote 2, commit 4};
  // snapshot at 3; compacted through 2; floor 3. Partition 2: entries 1..2.
  std::vector<Entry> log;
  for (Index i = 1; i <= 6; ++i) log.push_back(entry(i, (i + 1) / 2));
  WriteBatch setup;
  PartitionWrite& one = setup.add(append(1, log, HardState{3, 2, 4}));
  one.applied_floor = 3;
  setup.add(append(2, entries(1, 2, 1)));
  ASSERT_OK(store_->write(setup, true));
  ASSERT_OK(store_->create_snapshot(1, 3, conf_of({1, 2}), Bytes("three")));
  PartitionWrite compact;
  compact.partition = 1;
  compact.compact_through = 2;
  ASSERT_OK(write_one(*store_, compact));

  const Image one_before = image(*store_, 1);
  const Image two_before = image(*store_, 2);
  const auto counters = [&] {
    return std::vector<std::uint64_t>{store_->syncs(), store_->batches(),
                                      store_->entries_written(),
                                      store_->entry_bytes_written()};
  };
  const auto counters_before = counters();

  const std::vector<BadWrite> cases = {
      {"gap after the last index", [](PartitionWrite& w) { w.entries = {entry(8, 3)}; }},
      {"entries not consecutive",
       [](PartitionWrite& w) {
         w.entries = {entry(7, 3), entry(9, 3)};
       }},
      {"entry terms decrease",
       [](PartitionWrite& w) {
         w.entries = {entry(7, 4), entry(8, 3)};
       }},
      {"entry in term 0", [](PartitionWrite& w) { w.entries = {entry(7, 0)}; }},
      {"entries at the snapshot index", [](PartitionWrite& w) { w.entries = entries(3, 7, 4); }},
      {"entries below the compaction point",
       [](PartitionWrite& w) { w.entries = entries(1, 7, 4); }},
      {"entries rewriting a committed entry",
       [](PartitionWrite& w) { w.entries = entries(4, 7, 4); }},
      {"compaction beyond the snapshot", [](PartitionWrite& w) { w.compact_through = 4; }},
      {"snapshot not above the commit index",
       [](PartitionWrite& w) {
         w.snapshot = Snapshot{{4, 2, conf_of({1})}, Bytes()};
       }},
      {"snapshot at index 0", [](PartitionWrite& w) { w.snapshot = Snapshot{}; }},
      {"commit beyond the last index",
       [](PartitionWrite& w) {
         w.hard_state = HardState{3, 2, 7};
       }},
      {"commit beyond the last index after the entries",
       [](PartitionWrite& w) {
         w.entries = entries(5, 5, 4);  // truncates 6
         w.hard_state = HardState{4, 0, 6};
       }},
      {"term going back",
       [](PartitionWrite& w) {
         w.hard_state = HardState{2, 0, 4};
       }},
      {"second vote in a term",
       [](PartitionWrite& w) {
         w.hard_state = HardState{3, 1, 4};
       }},
      {"applied floor going back", [](PartitionWrite& w) { w.applied_floor = 2; }},
      {"good entries then a compaction beyond the snapshot",
       [](PartitionWrite& w) {
         w.entries = entries(7, 8, 3);
         w.compact_through = 5;
       }},
  };
  for (const BadWrite& c : cases) {
    SCOPED_TRACE(c.what);
    // A good write of partition 2 in the same batch must not be applied either.
    WriteBatch batch;
    batch.add(append(2, entries(3, 3, 1)));
    c.fill(batch.add(1));
    for (bool sync : {true, false}) {
      const StorageStatus status = store_->write(batch, sync);
      EXPECT_EQ(status.code(), StorageCode::InvalidArgument) << status.to_string();
      EXPECT_NE(status.message().find("partition 1"), std::string::npos) << status.message();
    }
    EXPECT_EQ(image(*store_, 1), one_before);
    EXPECT_EQ(image(*store_, 2), two_before);
  }

  // Two writes of one partition in a batch: the second is checked after the first.
  WriteBatch pair;
  pair.add(append(1, entries(7, 8, 3)));
  pair.add(append(1, entries(10, 10, 3)));
  EXPECT_EQ(store_->write(pair, true).code(), StorageCode::InvalidArgument);

  // Snapshots the host asks for: on a stored entry above the snapshot, at most the commit.
  for (Index index : {Index{2}, Index{3}, Index{5}, Index{9}}) {
    SCOPED_TRACE(index);
    const StorageStatus status = store_->create_snapshot(1, index, conf_of({1}), Bytes("x"));
    EXPECT_EQ(status.code(), StorageCode::InvalidArgument) << status.to_string();
    EXPECT_FALSE(status.message().empty());
  }
  EXPECT_EQ(store_->create_snapshot(5, 1, conf_of({1}), Bytes()).code(), StorageCode::NotFound);

  EXPECT_EQ(image(*store_, 1), one_before);
  EXPECT_EQ(image(*store_, 2), two_before);
  EXPECT_EQ(counters(), counters_before);
  EXPECT_EQ(store_->partitions(), (std::vector<PartitionId>{1, 2}));
}

TEST_P(LogStoreConformance, CountsSyncsBatchesAndEntries) {
  const auto payload_bytes = [](const std::vector<Entry>& es) {
    std::uint64_t n = 0;
    for (const Entry& e : es) n += e.data.size();
    return n;
  };
  WriteBatch batch;
  batch.add(append(1, entries(1, 3, 1), HardState{1, 0, 3}));
  batch.add(append(2, entries(1, 2, 1)));
  ASSERT_OK(store_->write(batch, false));
  EXPECT_EQ(store_->batches(), 1u);
  EXPECT_EQ(store_->entries_written(), 5u);
  const std::uint64_t five = payload_bytes(entries(1, 3, 1)) + payload_bytes(entries(1, 2, 1));
  ASSERT_GT(five, 0u);
  EXPECT_EQ(store_->entry_bytes_written(), five);
  EXPECT_EQ(store_->syncs(), 0u);
  ASSERT_OK(write_one(*store_, append(1, entries(4, 4, 1)), true));
  EXPECT_EQ(store_->batches(), 2u);
  EXPECT_EQ(store_->entries_written(), 6u);
  EXPECT_EQ(store_->entry_bytes_written(), five + payload_bytes(entries(4, 4, 1)));
  EXPECT_EQ(store_->syncs(), 1u);
  ASSERT_OK(store_->sync());
  EXPECT_EQ(store_->batches(), 2u);
  EXPECT_EQ(store_->syncs(), 2u);
  ASSERT_OK(store_->create_snapshot(1, 2, conf_of({1}), Bytes()));
  ASSERT_OK(store_->remove_partition(2));
  EXPECT_EQ(store_->syncs(), 4u);
  EXPECT_EQ(store_->batches(), 2u);
  EXPECT_EQ(store_->entries_written(), 6u);
}

TEST_P(LogStoreConformance, ConcurrentWritersAndReaders) {
  constexpr PartitionId kWriters = 3;
  constexpr Index kEntries = 200;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    std::vector<std::shared_ptr<raft::LogStorage>> views;
    for (PartitionId p = 0; p < kWriters; ++p) views.push_back(store_->open_partition(p));
    while (!done.load()) {
      for (const auto& view : views) {
        const Index last = view->last_index();
        std::vector<Entry> out;
        // The log only grows here, so what was there stays readable.
        if (last > 0) {
          EXPECT_EQ(view->entries(1, last + 1, SIZE_MAX, out), StorageError::None);
        }
        EXPECT_EQ(out.size(), last);
      }
      (void)store_->partitions();
    }
  });
  std::vector<std::thread> writers;
  for (PartitionId p = 0; p < kWriters; ++p) {
    writers.emplace_back([&, p] {
      for (Index i = 1; i <= kEntries; ++i) {
        EXPECT_TRUE(write_one(*store_, append(p, {entry(i, 1)}), i % 8 == 0).ok());
      }
    });
  }
  for (auto& t : writers) t.join();
  done = true;
  reader.join();
  for (PartitionId p = 0; p < kWriters; ++p) EXPECT_EQ(image(*store_, p).last, kEntries);
  EXPECT_EQ(store_->batches(), kWriters * kEntries);
}

}  // namespace synod::storage::testing
