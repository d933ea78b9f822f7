#include "synod/storage/memory_log_store.h"

#include <algorithm>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <type_traits>
#include <unordered_map>

#include "partition_log.h"
#include "write_rules.h"

namespace synod::storage {

using Partitions = std::unordered_map<PartitionId, PartitionLog>;

struct MemoryLogStore::State {
  mutable std::shared_mutex mu;
  // What readers see: the durable layer plus `unsynced` applied in order.
  Partitions live;
  // What survives a crash.
  Partitions durable;
  std::vector<PartitionWrite> unsynced;

  const PartitionLog* find_live(PartitionId partition) const {
    auto it = live.find(partition);
    return it == live.end() ? nullptr : &it->second;
  }

  // Moves the cache onto the durable layer. Every cached write was checked against the
  // live state, which the durable layer reaches by replaying them in the same order.
  void flush_locked() {
    for (const PartitionWrite& w : unsynced) durable[w.partition].apply(w);
    unsynced.clear();
  }
};

// A RawNode's view of one partition; every read goes to the live layer, so it follows
// writes, removal and crashes.
class MemoryLogStore::View final : public raft::LogStorage {
 public:
  View(std::shared_ptr<const State> state, PartitionId partition)
      : state_(std::move(state)), partition_(partition) {}

  raft::HardState hard_state() const override {
    return read([](const PartitionLog& log) { return log.hard_state; });
  }
  raft::SnapshotMeta snapshot_meta() const override {
    return read([](const PartitionLog& log) { return log.snapshot.meta; });
  }
  raft::StorageError entries(raft::Index lo, raft::Index hi, std::size_t max_bytes,
                             std::vector<raft::Entry>& out) const override {
    return read([&](const PartitionLog& log) { return log.read_entries(lo, hi, max_bytes, out); });
  }
  raft::StorageError term(raft::Index index, raft::Term& out) const override {
    return read([&](const PartitionLog& log) { return log.read_term(index, out); });
  }
  raft::Index first_index() const override {
    return read([](const PartitionLog& log) { return log.first_index(); });
  }
  raft::Index last_index() const override {
    return read([](const PartitionLog& log) { return log.last_index(); });
  }
  raft::StorageError snapshot(raft::Snapshot& out) const override {
    return read([&](const PartitionLog& log) {
      out = log.snapshot;
      return raft::StorageError::None;
    });
  }

 private:
  // Runs `f` on the partition's live state (empty when nothing is stored) under the lock.
  template <typename F>
  std::invoke_result_t<F, const PartitionLog&> read(F&& f) const {
    static const PartitionLog kEmpty;
    std::shared_lock lock(state_->mu);
    const PartitionLog* log = state_->find_live(partition_);
    return f(log ? *log : kEmpty);
  }

  std::shared_ptr<const State> state_;
  PartitionId partition_;
};

MemoryLogStore::MemoryLogStore() : state_(std::make_shared<State>()) {}
MemoryLogStore::~MemoryLogStore() = default;

StorageStatus MemoryLogStore::write(const WriteBatch& batch, bool sync) {
  std::unique_lock lock(state_->mu);
  // Check everything first so that a refused batch changes nothing.
  std::unordered_map<PartitionId, LogBounds> bounds;
  for (const PartitionWrite& w : batch.writes()) {
    auto it = bounds.find(w.partition);
    if (it == bounds.end()) {
      const PartitionLog* log = state_->find_live(w.partition);
      it = bounds.emplace(w.partition, log ? log->bounds() : LogBounds{}).first;
    }
    StorageStatus status = check_write(it->second, w, it->second);
    if (!status.ok()) return status;
  }
  for (const PartitionWrite& w : batch.writes()) {
    if (!w.empty()) state_->live[w.partition].apply(w);
  }
  if (sync) {
    state_->flush_locked();
    for (const PartitionWrite& w : batch.writes()) {
      if (!w.empty()) state_->durable[w.partition].apply(w);
    }
  } else {
    for (const PartitionWrite& w : batch.writes()) {
      if (!w.empty()) state_->unsynced.push_back(w);
    }
  }
  count_write(batch, sync);
  return {};
}

std::shared_ptr<raft::LogStorage> MemoryLogStore::open_partition(PartitionId partition) {
  return std::make_shared<View>(state_, partition);
}

std::vector<PartitionId> MemoryLogStore::partitions() const {
  std::shared_lock lock(state_->mu);
  std::vector<PartitionId> out;
  out.reserve(state_->live.size());
  for (const auto& [id, log] : state_->live) out.push_back(id);
  std::sort(out.begin(), out.end());
  return out;
}

raft::Index MemoryLogStore::applied_floor(PartitionId partition) const {
  std::shared_lock lock(state_->mu);
  const PartitionLog* log = state_->find_live(partition);
  return log ? log->applied_floor : 0;
}

StorageStatus MemoryLogStore::create_snapshot(PartitionId partition, raft::Index index,
                                              const raft::ConfState& conf, raft::Bytes data) {
  std::unique_lock lock(state_->mu);
  auto it = state_->live.find(partition);
  if (it == state_->live.end()) {
    return StorageStatus::not_found("partition " + std::to_string(partition) +
                                    " has no stored state");
  }
  StorageStatus status = check_snapshot_creation(partition, it->second.bounds(), index);
  if (!status.ok()) return status;
  it->second.record_snapshot(index, conf, data);
  state_->flush_locked();
  state_->durable[partition].record_snapshot(index, conf, std::move(data));
  count_sync();
  return {};
}

StorageStatus MemoryLogStore::remove_partition(PartitionId partition) {
  std::unique_lock lock(state_->mu);
  state_->flush_locked();
  state_->live.erase(partition);
  state_->durable.erase(partition);
  count_sync();
  return {};
}

void MemoryLogStore::crash() {
  std::unique_lock lock(state_->mu);
  state_->live = state_->durable;
  state_->unsynced.clear();
}

std::size_t MemoryLogStore::unsynced_writes() const {
  std::shared_lock lock(state_->mu);
  return state_->unsynced.size();
}

}  // namespace synod::storage
