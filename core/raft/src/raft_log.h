// The log as one Raft member sees it: the durable part behind LogStorage plus an
// in-memory tail of entries (and possibly a snapshot) not yet persisted.
#pragma once

#include <deque>
#include <optional>
#include <vector>

#include "synod/raft/storage.h"

namespace synod::raft {

class RaftLog {
 public:
  explicit RaftLog(LogStorage& storage);

  Index first_index() const;
  Index last_index() const;
  Term last_term() const;
  // The term of the entry at `index`, or nullopt when it is compacted or beyond the log.
  std::optional<Term> term(Index index) const;
  bool match_term(Index index, Term term) const;
  // Whether a log ending at (index, term) is at least as up to date as this one (§5.4.1).
  bool is_up_to_date(Index index, Term term) const;

  struct AppendOutcome {
    Index appended_from = 0;  // first index written (0: every entry was already held)
    Index truncated_at = 0;   // first index of our log that was overwritten (0: none)
    bool conflicts_with_commit = false;
  };
  // Follower append after the leader's entry (prev_index, prev_term). Returns the index of
  // the last entry the leader sent, or nullopt when the logs do not match at prev_index.
  std::optional<Index> maybe_append(Index prev_index, Term prev_term,
                                    const std::vector<Entry>& entries, AppendOutcome& outcome);
  // Leader append of new entries at the end of the log.
  void append(std::vector<Entry> entries);

  // The largest index <= `index` whose term is <= `term` (used to skip whole terms when a
  // follower refuses an Append). Stops at the compacted prefix.
  Index find_conflict_by_term(Index index, Term term) const;

  // Entries [lo, hi), at most about `max_bytes` (always at least one when lo < hi).
  StorageError slice(Index lo, Index hi, std::size_t max_bytes, std::vector<Entry>& out) const;
  // The latest snapshot (a pending unpersisted one first).
  StorageError snapshot(Snapshot& out) const;

  Index committed() const { return committed_; }
  void commit_to(Index index);
  // Commits `index` only if its entry is from `term` (Figure 8: a leader counts replicas
  // only for entries of its own term).
  bool maybe_commit(Index index, Term term);

  // Replaces the log with a snapshot; the snapshot is unstable until persisted.
  void restore(const Snapshot& snapshot);

  // --- Ready bookkeeping ----------------------------------------------------------
  // Unstable entries not yet handed out for persistence.
  std::vector<Entry> next_unstable_entries() const;
  const std::optional<Snapshot>& unstable_snapshot() const { return unstable_snapshot_; }
  bool has_next_unstable() const;
  bool has_next_snapshot() const { return unstable_snapshot_ && !snapshot_in_progress_; }
  // Marks everything unstable as handed out for persistence.
  void accept_unstable();
  // The handed-out entries through (index, term) are now durable.
  void stable_to(Index index, Term term);
  void stable_snapshot_to(Index index);
  // Index below which the log is durable (no unstable entry or snapshot at or below it).
  Index stable_last_index() const;

  // Committed entries not yet handed out to the host.
  bool has_next_committed() const;
  std::vector<Entry> next_committed(std::size_t max_bytes) const;
  void accept_committed(Index index) { applying_ = index; }
  Index applying() const { return applying_; }
  Index applied() const { return applied_; }
  void applied_to(Index index);
  void set_applied(Index index) { applied_ = applying_ = index; }

 private:
  void truncate_and_append(std::vector<Entry> entries);

  LogStorage& storage_;
  std::optional<Snapshot> unstable_snapshot_;
  bool snapshot_in_progress_ = false;
  std::deque<Entry> unstable_;
  // Index of unstable_.front(); entries below it are in storage.
  Index unstable_offset_ = 1;
  // First unstable index not yet handed out for persistence.
  Index unstable_in_progress_ = 1;
  Index committed_ = 0;
  Index applying_ = 0;
  Index applied_ = 0;
};

}  // namespace synod::raft
