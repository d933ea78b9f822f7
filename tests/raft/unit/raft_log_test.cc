// RaftLog: the durable log behind LogStorage plus the unstable tail a Ready hands out.
#include "raft_log.h"

#include <gtest/gtest.h>

#include "unit_support.h"

namespace synod::raft {
namespace {

using unit::make_entry;

// A storage holding entries 1..last, entry i in term terms[i-1].
void fill(MemoryLogStorage& s, const std::vector<Term>& terms) {
  std::vector<Entry> entries;
  for (std::size_t i = 0; i < terms.size(); ++i) {
    entries.push_back(make_entry(i + 1, terms[i], "e" + std::to_string(i + 1)));
  }
  s.append(entries);
}

std::vector<Index> indexes(const std::vector<Entry>& entries) {
  std::vector<Index> out;
  for (const auto& e : entries) out.push_back(e.index);
  return out;
}

TEST(RaftLog, StartsFromWhatStorageHolds) {
  MemoryLogStorage s;
  fill(s, {1, 1, 2});
  RaftLog log(s);
  EXPECT_EQ(log.first_index(), 1u);
  EXPECT_EQ(log.last_index(), 3u);
  EXPECT_EQ(log.last_term(), 2u);
  EXPECT_EQ(log.term(2), 1u);
  EXPECT_EQ(log.term(0), 0u);
  EXPECT_FALSE(log.term(4).has_value());
  EXPECT_FALSE(log.has_next_unstable());
}

TEST(RaftLog, LeaderAppendGoesToTheUnstableTail) {
  MemoryLogStorage s;
  fill(s, {1, 1});
  RaftLog log(s);
  log.append({make_entry(3, 2), make_entry(4, 2)});
  EXPECT_EQ(log.last_index(), 4u);
  EXPECT_EQ(log.term(4), 2u);
  EXPECT_TRUE(log.has_next_unstable());
  EXPECT_EQ(indexes(log.next_unstable_entries()), (std::vector<Index>{3, 4}));
  EXPECT_EQ(log.stable_last_index(), 2u);
  EXPECT_EQ(s.last_index(), 2u) << "storage is written by the runtime, not the log";
}

TEST(RaftLog, HandsOutUnstableEntriesOnceAndForgetsThemWhenStable) {
  MemoryLogStorage s;
  fill(s, {1});
  RaftLog log(s);
  log.append({make_entry(2, 1), make_entry(3, 1)});
  log.accept_unstable();
  EXPECT_FALSE(log.has_next_unstable()) << "in progress: not handed out twice";
  log.append({make_entry(4, 1)});
  EXPECT_EQ(indexes(log.next_unstable_entries()), (std::vector<Index>{4}));
  // The runtime persisted 2..3.
  s.append({make_entry(2, 1), make_entry(3, 1)});
  log.stable_to(3, 1);
  EXPECT_EQ(log.stable_last_index(), 3u);
  EXPECT_EQ(log.term(3), 1u);
  EXPECT_EQ(log.last_index(), 4u);
}

TEST(RaftLog, IgnoresStableToForAnEntryThatWasReplacedMeanwhile) {
  MemoryLogStorage s;
  fill(s, {1});
  RaftLog log(s);
  log.append({make_entry(2, 1), make_entry(3, 1)});
  log.accept_unstable();
  // Before the write completes, a new leader replaces index 3.
  RaftLog::AppendOutcome outcome;
  ASSERT_TRUE(log.maybe_append(2, 1, {make_entry(3, 2)}, outcome).has_value());
  log.stable_to(3, 1);
  EXPECT_EQ(log.stable_last_index(), 1u) << "3@1 is no longer ours; 3@2 is still unstable";
  EXPECT_EQ(indexes(log.next_unstable_entries()), (std::vector<Index>{3}));
  EXPECT_EQ(log.term(3), 2u);
}

TEST(RaftLogMaybeAppend, RefusesWhenThePrecedingEntryDoesNotMatch) {
  MemoryLogStorage s;
  fill(s, {1, 1, 2});
  RaftLog log(s);
  RaftLog::AppendOutcome outcome;
  EXPECT_FALSE(log.maybe_append(3, 3, {make_entry(4, 3)}, outcome).has_value());
  EXPECT_FALSE(log.maybe_append(5, 2, {make_entry(6, 3)}, outcome).has_value())
      << "a gap is a mismatch";
  EXPECT_EQ(log.last_index(), 3u);
}

TEST(RaftLogMaybeAppend, AppendsAfterAMatchingEntry) {
  MemoryLogStorage s;
  fill(s, {1, 1, 2});
  RaftLog log(s);
  RaftLog::AppendOutcome outcome;
  auto last = log.maybe_append(3, 2, {make_entry(4, 2), make_entry(5, 3)}, outcome);
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(*last, 5u);
  EXPECT_EQ(outcome.appended_from, 4u);
  EXPECT_EQ(outcome.truncated_at, 0u);
  EXPECT_EQ(log.last_index(), 5u);
}

TEST(RaftLogMaybeAppend, KeepsAMatchingSuffixThatALateMessageOmits) {
  MemoryLogStorage s;
  fill(s, {1, 1, 2, 2, 2});
  RaftLog log(s);
  RaftLog::AppendOutcome outcome;
  // A delayed message carrying only entry 3: everything already held, nothing is lost.
  auto last = log.maybe_append(2, 1, {make_entry(3, 2)}, outcome);
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(*last, 3u);
  EXPECT_EQ(outcome.appended_from, 0u);
  EXPECT_EQ(log.last_index(), 5u);
}

TEST(RaftLogMaybeAppend, TruncatesAtTheFirstConflictingEntry) {
  MemoryLogStorage s;
  fill(s, {1, 1, 2, 2, 2});
  RaftLog log(s);
  RaftLog::AppendOutcome outcome;
  auto last = log.maybe_append(2, 1, {make_entry(3, 2), make_entry(4, 3)}, outcome);
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(outcome.appended_from, 4u);
  EXPECT_EQ(outcome.truncated_at, 4u);
  EXPECT_EQ(log.last_index(), 4u) << "entry 5 of the old term is gone";
  EXPECT_EQ(log.term(4), 3u);
  EXPECT_EQ(indexes(log.next_unstable_entries()), (std::vector<Index>{4}));
}

TEST(RaftLogMaybeAppend, RefusesToOverwriteACommittedEntry) {
  MemoryLogStorage s;
  fill(s, {1, 1, 2});
  RaftLog log(s);
  log.commit_to(3);
  RaftLog::AppendOutcome outcome;
  EXPECT_FALSE(log.maybe_append(2, 1, {make_entry(3, 3)}, outcome).has_value());
  EXPECT_TRUE(outcome.conflicts_with_commit);
  EXPECT_EQ(log.term(3), 2u);
}

TEST(RaftLogFindConflictByTerm, SkipsBackOverEveryEntryOfALaterTerm) {
  MemoryLogStorage s;
  fill(s, {1, 1, 2, 2, 5, 5, 5, 7});
  RaftLog log(s);
  EXPECT_EQ(log.find_conflict_by_term(8, 6), 7u);
  EXPECT_EQ(log.find_conflict_by_term(8, 4), 4u);
  EXPECT_EQ(log.find_conflict_by_term(7, 2), 4u);
  EXPECT_EQ(log.find_conflict_by_term(8, 1), 2u);
  EXPECT_EQ(log.find_conflict_by_term(8, 0), 0u);
  EXPECT_EQ(log.find_conflict_by_term(3, 9), 3u) << "an entry of a lower term stops at once";
}

TEST(RaftLogFindConflictByTerm, StopsAtTheCompactedPrefix) {
  MemoryLogStorage s;
  fill(s, {1, 3, 3, 3, 3});
  ASSERT_EQ(s.create_snapshot(3, unit::conf_of({1}), Bytes("x")), StorageError::None);
  ASSERT_EQ(s.compact(3), StorageError::None);
  RaftLog log(s);
  EXPECT_EQ(log.find_conflict_by_term(5, 1), 3u);
}

TEST(RaftLogSlice, ReadsAcrossStorageAndTheUnstableTail) {
  MemoryLogStorage s;
  fill(s, {1, 1, 1});
  RaftLog log(s);
  log.append({make_entry(4, 2), make_entry(5, 2)});
  std::vector<Entry> out;
  ASSERT_EQ(log.slice(2, 6, 1 << 20, out), StorageError::None);
  EXPECT_EQ(indexes(out), (std::vector<Index>{2, 3, 4, 5}));
}

TEST(RaftLogSlice, RespectsTheByteLimitAcrossTheBoundary) {
  MemoryLogStorage s;
  fill(s, {1, 1, 1});  // each entry is 2 payload bytes + 24 = 26 bytes
  RaftLog log(s);
  log.append({make_entry(4, 2, "xx"), make_entry(5, 2, "xx")});
  std::vector<Entry> out;
  ASSERT_EQ(log.slice(2, 6, 3 * 26, out), StorageError::None);
  EXPECT_EQ(indexes(out), (std::vector<Index>{2, 3, 4}));
}

TEST(RaftLogSlice, StopsInsideStorageWithoutSkippingIntoTheUnstableTail) {
  MemoryLogStorage s;
  fill(s, {1, 1, 1});
  RaftLog log(s);
  log.append({make_entry(4, 2, "xx")});
  std::vector<Entry> out;
  ASSERT_EQ(log.slice(1, 5, 26, out), StorageError::None);
  EXPECT_EQ(indexes(out), (std::vector<Index>{1}));
}

TEST(RaftLogSlice, AlwaysReturnsAtLeastOneEntry) {
  MemoryLogStorage s;
  fill(s, {1});
  RaftLog log(s);
  log.append({make_entry(2, 1, std::string(1000, 'x'))});
  std::vector<Entry> from_storage;
  ASSERT_EQ(log.slice(1, 3, 1, from_storage), StorageError::None);
  EXPECT_EQ(indexes(from_storage), (std::vector<Index>{1}));
  std::vector<Entry> from_unstable;
  ASSERT_EQ(log.slice(2, 3, 1, from_unstable), StorageError::None);
  EXPECT_EQ(indexes(from_unstable), (std::vector<Index>{2}));
}

TEST(RaftLogSlice, ReportsCompactedAndUnavailableRanges) {
  MemoryLogStorage s;
  fill(s, {1, 1, 1, 1});
  ASSERT_EQ(s.create_snapshot(2, unit::conf_of({1}), Bytes("x")), StorageError::None);
  ASSERT_EQ(s.compact(2), StorageError::None);
  RaftLog log(s);
  std::vector<Entry> out;
  EXPECT_EQ(log.slice(2, 4, 1 << 20, out), StorageError::Compacted);
  EXPECT_EQ(log.slice(3, 6, 1 << 20, out), StorageError::Unavailable);
  EXPECT_TRUE(out.empty());
}

TEST(RaftLogCommit, CommitsOnlyAnEntryOfTheGivenTerm) {
  MemoryLogStorage s;
  fill(s, {1, 2, 3});
  RaftLog log(s);
  EXPECT_FALSE(log.maybe_commit(2, 3)) << "an old-term entry is not committed by counting";
  EXPECT_EQ(log.committed(), 0u);
  EXPECT_TRUE(log.maybe_commit(3, 3));
  EXPECT_EQ(log.committed(), 3u);
  EXPECT_FALSE(log.maybe_commit(2, 2)) << "commit never moves back";
}

TEST(RaftLogCommit, HandsOutCommittedEntriesOnceWithinAByteBudget) {
  MemoryLogStorage s;
  fill(s, {1, 1, 1, 1});
  RaftLog log(s);
  log.commit_to(4);
  ASSERT_TRUE(log.has_next_committed());
  auto first = log.next_committed(2 * 26);
  EXPECT_EQ(indexes(first), (std::vector<Index>{1, 2}));
  log.accept_committed(2);
  EXPECT_EQ(indexes(log.next_committed(1 << 20)), (std::vector<Index>{3, 4}));
  log.accept_committed(4);
  EXPECT_FALSE(log.has_next_committed());
  log.applied_to(4);
  EXPECT_EQ(log.applied(), 4u);
}

TEST(RaftLogUpToDate, ComparesLastTermFirstThenLength) {
  MemoryLogStorage s;
  fill(s, {1, 2, 2});
  RaftLog log(s);
  EXPECT_TRUE(log.is_up_to_date(1, 3)) << "a later last term wins even if shorter";
  EXPECT_FALSE(log.is_up_to_date(9, 1)) << "an earlier last term loses even if longer";
  EXPECT_TRUE(log.is_up_to_date(3, 2));
  EXPECT_FALSE(log.is_up_to_date(2, 2));
}

TEST(RaftLogRestore, ReplacesTheLogWithAnUnstableSnapshot) {
  MemoryLogStorage s;
  fill(s, {1, 1});
  RaftLog log(s);
  log.append({make_entry(3, 1)});
  Snapshot snap;
  snap.meta = {10, 4, unit::conf_of({1, 2})};
  snap.data = Bytes("state");
  log.restore(snap);
  EXPECT_EQ(log.first_index(), 11u);
  EXPECT_EQ(log.last_index(), 10u);
  EXPECT_EQ(log.term(10), 4u);
  EXPECT_FALSE(log.term(9).has_value());
  EXPECT_EQ(log.committed(), 10u);
  EXPECT_TRUE(log.has_next_snapshot());
  EXPECT_FALSE(log.has_next_unstable()) << "the old unstable tail is gone";
  EXPECT_FALSE(log.has_next_committed()) << "the snapshot, not entries, brings the state";
  EXPECT_EQ(log.stable_last_index(), 0u) << "nothing is durable until the snapshot is";

  // New entries after the snapshot go to the tail.
  RaftLog::AppendOutcome outcome;
  ASSERT_TRUE(log.maybe_append(10, 4, {make_entry(11, 4)}, outcome).has_value());
  EXPECT_EQ(log.last_index(), 11u);

  log.accept_unstable();
  EXPECT_FALSE(log.has_next_snapshot());
  s.apply_snapshot(snap);
  s.append({make_entry(11, 4)});
  log.stable_snapshot_to(10);
  log.stable_to(11, 4);
  EXPECT_EQ(log.stable_last_index(), 11u);
  EXPECT_EQ(log.first_index(), 11u);
  Snapshot stored;
  ASSERT_EQ(log.snapshot(stored), StorageError::None);
  EXPECT_EQ(stored.meta.index, 10u);
}

}  // namespace
}  // namespace synod::raft
