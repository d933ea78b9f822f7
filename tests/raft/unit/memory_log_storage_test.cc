// MemoryLogStorage: the in-memory LogStorage used by tests, the simulator and benchmarks.
#include <gtest/gtest.h>

#include "synod/raft/conf_change.h"
#include "synod/raft/storage.h"
#include "unit_support.h"

namespace synod::raft {
namespace {

using unit::make_entry;

std::vector<Index> indexes(const std::vector<Entry>& entries) {
  std::vector<Index> out;
  for (const auto& e : entries) out.push_back(e.index);
  return out;
}

std::vector<Term> terms(const MemoryLogStorage& s) {
  std::vector<Term> out;
  for (Index i = s.first_index(); i <= s.last_index(); ++i) {
    Term t = 0;
    EXPECT_EQ(s.term(i, t), StorageError::None);
    out.push_back(t);
  }
  return out;
}

// Entries 1..n, all in term 1, each with a two-byte payload (26 bytes with the header).
MemoryLogStorage& with_entries(MemoryLogStorage& s, Index n) {
  std::vector<Entry> entries;
  for (Index i = 1; i <= n; ++i) entries.push_back(make_entry(i, 1, "ab"));
  s.append(entries);
  return s;
}

TEST(MemoryLogStorage, StartsEmpty) {
  MemoryLogStorage s;
  EXPECT_EQ(s.first_index(), 1u);
  EXPECT_EQ(s.last_index(), 0u);
  EXPECT_TRUE(s.hard_state().is_empty());
  Term t = 99;
  EXPECT_EQ(s.term(0, t), StorageError::None);
  EXPECT_EQ(t, 0u);
  EXPECT_EQ(s.term(1, t), StorageError::Unavailable);
  Snapshot snap;
  EXPECT_EQ(s.snapshot(snap), StorageError::None);
  EXPECT_TRUE(snap.is_empty());
}

TEST(MemoryLogStorage, BootstrapWritesTheInitialConfigurationEntryAndHardState) {
  MemoryLogStorage s;
  s.bootstrap({1, 2, 3}, {4});
  EXPECT_EQ(s.last_index(), 1u);
  EXPECT_EQ(s.hard_state(), (HardState{1, kNoNode, 1}));
  std::vector<Entry> out;
  ASSERT_EQ(s.entries(1, 2, 1 << 20, out), StorageError::None);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, EntryType::ConfChange);
  EXPECT_EQ(out[0], make_bootstrap_entry({1, 2, 3}, {4}));
}

TEST(MemoryLogStorage, AppendReplacesTheSuffixFromTheFirstNewIndex) {
  MemoryLogStorage s;
  with_entries(s, 5);
  s.append({make_entry(3, 2), make_entry(4, 2)});
  EXPECT_EQ(s.last_index(), 4u);
  EXPECT_EQ(terms(s), (std::vector<Term>{1, 1, 2, 2}));
  s.append({make_entry(5, 3)});
  EXPECT_EQ(terms(s), (std::vector<Term>{1, 1, 2, 2, 3}));
}

TEST(MemoryLogStorage, AppendIgnoresEntriesAtOrBelowTheCompactionPoint) {
  MemoryLogStorage s;
  with_entries(s, 5);
  ASSERT_EQ(s.create_snapshot(3, unit::conf_of({1}), Bytes("s")), StorageError::None);
  ASSERT_EQ(s.compact(3), StorageError::None);
  s.append({make_entry(2, 9), make_entry(3, 9), make_entry(4, 2)});
  EXPECT_EQ(s.first_index(), 4u);
  EXPECT_EQ(s.last_index(), 4u);
  Term t = 0;
  ASSERT_EQ(s.term(3, t), StorageError::None);
  EXPECT_EQ(t, 1u) << "the compacted entry's term is unchanged";
  ASSERT_EQ(s.term(4, t), StorageError::None);
  EXPECT_EQ(t, 2u);
}

TEST(MemoryLogStorage, EntriesStopAtTheByteLimitButReturnAtLeastOne) {
  MemoryLogStorage s;
  with_entries(s, 5);
  std::vector<Entry> out;
  ASSERT_EQ(s.entries(2, 6, 2 * 26, out), StorageError::None);
  EXPECT_EQ(indexes(out), (std::vector<Index>{2, 3}));
  out.clear();
  ASSERT_EQ(s.entries(2, 6, 0, out), StorageError::None);
  EXPECT_EQ(indexes(out), (std::vector<Index>{2}));
  out.clear();
  ASSERT_EQ(s.entries(4, 4, 1 << 20, out), StorageError::None);
  EXPECT_TRUE(out.empty());
}

TEST(MemoryLogStorage, EntriesReportCompactedAndUnavailableRanges) {
  MemoryLogStorage s;
  with_entries(s, 5);
  ASSERT_EQ(s.create_snapshot(2, unit::conf_of({1}), Bytes("s")), StorageError::None);
  ASSERT_EQ(s.compact(2), StorageError::None);
  std::vector<Entry> out;
  EXPECT_EQ(s.entries(2, 4, 1 << 20, out), StorageError::Compacted);
  EXPECT_EQ(s.entries(3, 7, 1 << 20, out), StorageError::Unavailable);
  EXPECT_TRUE(out.empty());
  Term t = 0;
  EXPECT_EQ(s.term(1, t), StorageError::Compacted);
  EXPECT_EQ(s.term(6, t), StorageError::Unavailable);
}

TEST(MemoryLogStorage, CreateSnapshotNeedsAnEntryInTheLogNewerThanTheLastSnapshot) {
  MemoryLogStorage s;
  with_entries(s, 5);
  EXPECT_EQ(s.create_snapshot(6, unit::conf_of({1}), Bytes("s")), StorageError::Unavailable);
  ASSERT_EQ(s.create_snapshot(4, unit::conf_of({1, 2}), Bytes("at4")), StorageError::None);
  EXPECT_EQ(s.create_snapshot(4, unit::conf_of({1}), Bytes("again")), StorageError::Compacted);
  EXPECT_EQ(s.create_snapshot(3, unit::conf_of({1}), Bytes("older")), StorageError::Compacted);
  Snapshot snap;
  ASSERT_EQ(s.snapshot(snap), StorageError::None);
  EXPECT_EQ(snap.meta.index, 4u);
  EXPECT_EQ(snap.meta.term, 1u);
  EXPECT_EQ(snap.meta.conf_state.voters, (std::vector<NodeId>{1, 2}));
  EXPECT_EQ(snap.data.view(), "at4");
  EXPECT_EQ(s.snapshot_meta(), snap.meta);
  EXPECT_EQ(s.first_index(), 1u) << "taking a snapshot does not compact";
}

TEST(MemoryLogStorage, CompactionCannotPassTheLatestSnapshot) {
  MemoryLogStorage s;
  with_entries(s, 5);
  EXPECT_EQ(s.compact(2), StorageError::Unavailable) << "no snapshot covers index 2 yet";
  ASSERT_EQ(s.create_snapshot(3, unit::conf_of({1}), Bytes("s")), StorageError::None);
  EXPECT_EQ(s.compact(4), StorageError::Unavailable);
  ASSERT_EQ(s.compact(2), StorageError::None);
  EXPECT_EQ(s.first_index(), 3u);
  EXPECT_EQ(s.compact(2), StorageError::Compacted);
  ASSERT_EQ(s.compact(3), StorageError::None);
  EXPECT_EQ(s.first_index(), 4u);
  EXPECT_EQ(s.last_index(), 5u);
  Term t = 0;
  ASSERT_EQ(s.term(3, t), StorageError::None) << "the term at first_index() - 1 is kept";
  EXPECT_EQ(t, 1u);
}

TEST(MemoryLogStorage, ApplySnapshotReplacesTheLogAndIgnoresOlderSnapshots) {
  MemoryLogStorage s;
  with_entries(s, 5);
  Snapshot snap;
  snap.meta = {20, 3, unit::conf_of({1, 2, 3})};
  snap.data = Bytes("twenty");
  s.apply_snapshot(snap);
  EXPECT_EQ(s.first_index(), 21u);
  EXPECT_EQ(s.last_index(), 20u);
  Term t = 0;
  ASSERT_EQ(s.term(20, t), StorageError::None);
  EXPECT_EQ(t, 3u);

  Snapshot older = snap;
  older.meta.index = 10;
  older.data = Bytes("ten");
  s.apply_snapshot(older);
  Snapshot got;
  ASSERT_EQ(s.snapshot(got), StorageError::None);
  EXPECT_EQ(got, snap);
  EXPECT_EQ(s.first_index(), 21u);

  s.append({make_entry(21, 3)});
  EXPECT_EQ(s.last_index(), 21u);
}

TEST(MemoryLogStorage, KeepsTheLastHardStateWritten) {
  MemoryLogStorage s;
  s.set_hard_state({4, 2, 7});
  s.set_hard_state({5, kNoNode, 7});
  EXPECT_EQ(s.hard_state(), (HardState{5, kNoNode, 7}));
}

}  // namespace
}  // namespace synod::raft
