#include <algorithm>

#include "synod/raft/conf_change.h"
#include "synod/raft/storage.h"

namespace synod::raft {

bool LogStorage::conf_entries(Index, Index, std::vector<Entry>&) const { return false; }

HardState MemoryLogStorage::hard_state() const {
  std::lock_guard lock(mu_);
  return hard_state_;
}

SnapshotMeta MemoryLogStorage::snapshot_meta() const {
  std::lock_guard lock(mu_);
  return snapshot_.meta;
}

StorageError MemoryLogStorage::entries(Index lo, Index hi, std::size_t max_bytes,
                                       std::vector<Entry>& out) const {
  std::lock_guard lock(mu_);
  if (lo < first_index_locked()) return StorageError::Compacted;
  if (hi > last_index_locked() + 1) return StorageError::Unavailable;
  std::size_t bytes = 0;
  for (Index i = lo; i < hi; ++i) {
    const Entry& e = log_[i - first_index_locked()];
    if (i != lo && bytes + e.byte_size() > max_bytes) break;
    bytes += e.byte_size();
    out.push_back(e);
  }
  return StorageError::None;
}

StorageError MemoryLogStorage::term(Index index, Term& out) const {
  std::lock_guard lock(mu_);
  if (index == compacted_index_) {
    out = compacted_term_;
    return StorageError::None;
  }
  if (index < compacted_index_) return StorageError::Compacted;
  if (index > last_index_locked()) return StorageError::Unavailable;
  out = log_[index - first_index_locked()].term;
  return StorageError::None;
}

Index MemoryLogStorage::first_index() const {
  std::lock_guard lock(mu_);
  return first_index_locked();
}

Index MemoryLogStorage::last_index() const {
  std::lock_guard lock(mu_);
  return last_index_locked();
}

StorageError MemoryLogStorage::snapshot(Snapshot& out) const {
  std::lock_guard lock(mu_);
  out = snapshot_;
  return StorageError::None;
}

void MemoryLogStorage::bootstrap(const std::vector<NodeId>& voters,
                                 const std::vector<NodeId>& learners) {
  append({make_bootstrap_entry(voters, learners)});
  set_hard_state({1, kNoNode, 1});
}

void MemoryLogStorage::set_hard_state(const HardState& state) {
  std::lock_guard lock(mu_);
  hard_state_ = state;
}

void MemoryLogStorage::append(const std::vector<Entry>& entries) {
  std::lock_guard lock(mu_);
  for (const Entry& e : entries) {
    if (e.index <= compacted_index_) continue;
    const Index offset = e.index - first_index_locked();
    if (offset < log_.size()) {
      log_.erase(log_.begin() + static_cast<std::ptrdiff_t>(offset), log_.end());
    }
    if (offset == log_.size()) log_.push_back(e);
  }
}

void MemoryLogStorage::apply_snapshot(const Snapshot& snapshot) {
  std::lock_guard lock(mu_);
  if (snapshot.meta.index <= snapshot_.meta.index) return;
  snapshot_ = snapshot;
  compacted_index_ = snapshot.meta.index;
  compacted_term_ = snapshot.meta.term;
  log_.clear();
}

StorageError MemoryLogStorage::create_snapshot(Index index, const ConfState& conf, Bytes data) {
  std::lock_guard lock(mu_);
  if (index <= snapshot_.meta.index || index <= compacted_index_) return StorageError::Compacted;
  if (index > last_index_locked()) return StorageError::Unavailable;
  snapshot_.meta = {index, log_[index - first_index_locked()].term, conf};
  snapshot_.data = std::move(data);
  return StorageError::None;
}

StorageError MemoryLogStorage::compact(Index index) {
  std::lock_guard lock(mu_);
  if (index <= compacted_index_) return StorageError::Compacted;
  if (index > snapshot_.meta.index || index > last_index_locked()) {
    return StorageError::Unavailable;
  }
  const Index drop = index - compacted_index_;
  compacted_term_ = log_[drop - 1].term;
  log_.erase(log_.begin(), log_.begin() + static_cast<std::ptrdiff_t>(drop));
  compacted_index_ = index;
  return StorageError::None;
}

}  // namespace synod::raft
