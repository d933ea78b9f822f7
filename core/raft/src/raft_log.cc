#include "raft_log.h"

#include <algorithm>

namespace synod::raft {

RaftLog::RaftLog(LogStorage& storage) : storage_(storage) {
  unstable_offset_ = storage_.last_index() + 1;
  unstable_in_progress_ = unstable_offset_;
  const Index snapshot_index = storage_.first_index() - 1;
  committed_ = snapshot_index;
  applying_ = applied_ = snapshot_index;
}

Index RaftLog::first_index() const {
  if (unstable_snapshot_) return unstable_snapshot_->meta.index + 1;
  return storage_.first_index();
}

Index RaftLog::last_index() const {
  if (!unstable_.empty()) return unstable_offset_ + unstable_.size() - 1;
  if (unstable_snapshot_) return unstable_snapshot_->meta.index;
  return storage_.last_index();
}

Term RaftLog::last_term() const { return term(last_index()).value_or(0); }

std::optional<Term> RaftLog::term(Index index) const {
  if (unstable_snapshot_ && index == unstable_snapshot_->meta.index) {
    return unstable_snapshot_->meta.term;
  }
  if (index >= unstable_offset_) {
    const Index offset = index - unstable_offset_;
    if (offset < unstable_.size()) return unstable_[offset].term;
    return std::nullopt;
  }
  if (unstable_snapshot_ && index < unstable_snapshot_->meta.index) return std::nullopt;
  if (index + 1 < first_index()) return std::nullopt;
  Term t = 0;
  if (storage_.term(index, t) != StorageError::None) return std::nullopt;
  return t;
}

bool RaftLog::match_term(Index index, Term t) const {
  auto actual = term(index);
  return actual && *actual == t;
}

bool RaftLog::is_up_to_date(Index index, Term t) const {
  const Term last = last_term();
  return t > last || (t == last && index >= last_index());
}

std::optional<Index> RaftLog::maybe_append(Index prev_index, Term prev_term,
                                           const std::vector<Entry>& entries,
                                           AppendOutcome& outcome) {
  outcome = {};
  if (!match_term(prev_index, prev_term)) return std::nullopt;
  const Index last_new = prev_index + entries.size();
  // Skip the prefix we already hold; the first entry whose term differs (or that is past
  // our end) is where the leader's log takes over.
  std::size_t first_new = 0;
  while (first_new < entries.size()) {
    const Entry& e = entries[first_new];
    if (!match_term(e.index, e.term)) break;
    ++first_new;
  }
  if (first_new < entries.size()) {
    const Index at = entries[first_new].index;
    if (at <= committed_) {
      // A leader never asks to overwrite a committed entry; refuse rather than lose it.
      outcome.conflicts_with_commit = true;
      return std::nullopt;
    }
    outcome.appended_from = at;
    if (at <= last_index()) outcome.truncated_at = at;
    truncate_and_append(std::vector<Entry>(entries.begin() + first_new, entries.end()));
  }
  return last_new;
}

void RaftLog::append(std::vector<Entry> entries) {
  if (entries.empty()) return;
  truncate_and_append(std::move(entries));
}

void RaftLog::truncate_and_append(std::vector<Entry> entries) {
  const Index after = entries.front().index;
  if (after == unstable_offset_ + unstable_.size()) {
    // Plain append at the end of the unstable tail.
  } else if (after <= unstable_offset_) {
    // Replaces everything unstable and part of what storage holds; the runtime's append
    // of these entries will overwrite storage's suffix.
    unstable_.clear();
    unstable_offset_ = after;
    unstable_in_progress_ = after;
  } else {
    unstable_.erase(unstable_.begin() + static_cast<std::ptrdiff_t>(after - unstable_offset_),
                    unstable_.end());
    unstable_in_progress_ = std::min(unstable_in_progress_, after);
  }
  for (auto& e : entries) unstable_.push_back(std::move(e));
}

Index RaftLog::find_conflict_by_term(Index index, Term t) const {
  const Index floor = first_index() - 1;
  while (index > floor) {
    auto at = term(index);
    if (!at || *at <= t) break;
    --index;
  }
  return index;
}

StorageError RaftLog::slice(Index lo, Index hi, std::size_t max_bytes,
                            std::vector<Entry>& out) const {
  if (lo >= hi) return StorageError::None;
  if (lo < first_index()) return StorageError::Compacted;
  if (hi > last_index() + 1) return StorageError::Unavailable;
  std::size_t bytes = 0;
  if (lo < unstable_offset_) {
    const Index stored_hi = std::min(hi, unstable_offset_);
    const std::size_t before = out.size();
    StorageError err = storage_.entries(lo, stored_hi, max_bytes, out);
    if (err != StorageError::None) return err;
    for (std::size_t i = before; i < out.size(); ++i) bytes += out[i].byte_size();
    // Storage stopped early at the byte limit: do not continue into the unstable tail.
    if (out.size() - before < stored_hi - lo) return StorageError::None;
    lo = stored_hi;
  }
  for (Index i = std::max(lo, unstable_offset_); i < hi; ++i) {
    const Entry& e = unstable_[i - unstable_offset_];
    if (!out.empty() && bytes + e.byte_size() > max_bytes) break;
    bytes += e.byte_size();
    out.push_back(e);
  }
  return StorageError::None;
}

StorageError RaftLog::snapshot(Snapshot& out) const {
  if (unstable_snapshot_) {
    out = *unstable_snapshot_;
    return StorageError::None;
  }
  return storage_.snapshot(out);
}

void RaftLog::commit_to(Index index) {
  if (index > committed_) committed_ = std::min(index, last_index());
}

bool RaftLog::maybe_commit(Index index, Term t) {
  if (index > committed_ && term(index) == t) {
    commit_to(index);
    return true;
  }
  return false;
}

void RaftLog::restore(const Snapshot& snapshot) {
  committed_ = snapshot.meta.index;
  unstable_snapshot_ = snapshot;
  snapshot_in_progress_ = false;
  unstable_.clear();
  unstable_offset_ = snapshot.meta.index + 1;
  unstable_in_progress_ = unstable_offset_;
  applying_ = std::max(applying_, snapshot.meta.index);
}

std::vector<Entry> RaftLog::next_unstable_entries() const {
  if (unstable_in_progress_ < unstable_offset_) return {};
  const std::size_t from = unstable_in_progress_ - unstable_offset_;
  if (from >= unstable_.size()) return {};
  return std::vector<Entry>(unstable_.begin() + static_cast<std::ptrdiff_t>(from), unstable_.end());
}

bool RaftLog::has_next_unstable() const {
  return unstable_in_progress_ < unstable_offset_ + unstable_.size();
}

void RaftLog::accept_unstable() {
  unstable_in_progress_ = unstable_offset_ + unstable_.size();
  if (unstable_snapshot_) snapshot_in_progress_ = true;
}

void RaftLog::stable_to(Index index, Term t) {
  if (index < unstable_offset_) return;
  const Index offset = index - unstable_offset_;
  // A later truncation replaced the entry that was persisted: nothing became stable here.
  if (offset >= unstable_.size() || unstable_[offset].term != t) return;
  unstable_.erase(unstable_.begin(), unstable_.begin() + static_cast<std::ptrdiff_t>(offset + 1));
  unstable_offset_ = index + 1;
  unstable_in_progress_ = std::max(unstable_in_progress_, unstable_offset_);
}

void RaftLog::stable_snapshot_to(Index index) {
  if (unstable_snapshot_ && unstable_snapshot_->meta.index == index) {
    unstable_snapshot_.reset();
    snapshot_in_progress_ = false;
  }
}

Index RaftLog::stable_last_index() const {
  if (unstable_snapshot_) return 0;
  if (!unstable_.empty()) return unstable_offset_ - 1;
  return last_index();
}

bool RaftLog::has_next_committed() const { return committed_ > applying_ && !unstable_snapshot_; }

std::vector<Entry> RaftLog::next_committed(std::size_t max_bytes) const {
  std::vector<Entry> out;
  if (!has_next_committed()) return out;
  slice(applying_ + 1, committed_ + 1, max_bytes, out);
  return out;
}

void RaftLog::applied_to(Index index) {
  applied_ = std::max(applied_, index);
  applying_ = std::max(applying_, applied_);
}

}  // namespace synod::raft
