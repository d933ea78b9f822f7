#include "synod/storage/durable_log_store.h"

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <limits>
#include <unordered_map>

#include "durable_store_impl.h"

namespace synod::storage {
namespace {

using records::CompactionPoint;
using records::StateKind;

constexpr raft::Index kMaxIndex = std::numeric_limits<raft::Index>::max();

std::string partition_text(PartitionId partition) {
  return "partition " + std::to_string(partition);
}

}  // namespace

// ---------------------------------------------------------------------------------------
// PartitionIndex

LogBounds PartitionIndex::bounds() const {
  return {first_index(), last_index, snapshot.index, hard_state, applied_floor};
}

std::optional<raft::Term> PartitionIndex::term_at(raft::Index index) const {
  if (index == compacted.index) return compacted.term;
  if (index < compacted.index || index > last_index) return std::nullopt;
  auto it = std::upper_bound(runs.begin(), runs.end(), index,
                             [](raft::Index i, const TermRun& run) { return i < run.first; });
  return std::prev(it)->term;
}

void PartitionIndex::truncate_from(raft::Index index) {
  if (index > last_index) return;
  while (!runs.empty() && runs.back().first >= index) runs.pop_back();
  while (!conf_indexes.empty() && conf_indexes.back() >= index) conf_indexes.pop_back();
  while (!tail.empty() && tail.back().index >= index) {
    tail_bytes -= tail.back().byte_size();
    tail.pop_back();
  }
  last_index = index - 1;
}

void PartitionIndex::append(const raft::Entry& entry) {
  if (runs.empty() || runs.back().term != entry.term) runs.push_back({entry.index, entry.term});
  if (entry.type == raft::EntryType::ConfChange) conf_indexes.push_back(entry.index);
  last_index = entry.index;
  tail.push_back(entry);
  tail_bytes += entry.byte_size();
}

void PartitionIndex::trim_tail(std::size_t budget, std::size_t keep) {
  while (tail.size() > keep && tail_bytes > budget) {
    tail_bytes -= tail.front().byte_size();
    tail.pop_front();
  }
}

void PartitionIndex::compact_to(const CompactionPoint& point) {
  compacted = point;
  if (point.index >= last_index) {
    runs.clear();
  } else {
    while (runs.size() >= 2 && runs[1].first <= point.index + 1) runs.erase(runs.begin());
    if (!runs.empty()) runs.front().first = std::max(runs.front().first, point.index + 1);
  }
  while (!tail.empty() && tail.front().index <= point.index) {
    tail_bytes -= tail.front().byte_size();
    tail.pop_front();
  }
  conf_indexes.erase(conf_indexes.begin(),
                     std::upper_bound(conf_indexes.begin(), conf_indexes.end(), point.index));
}

void PartitionIndex::replace_snapshot(const raft::SnapshotMeta& meta, std::uint64_t version) {
  snapshot = meta;
  snapshot_version = version;
  snapshot_cache.reset();
}

void PartitionIndex::reset_to_snapshot(const raft::SnapshotMeta& meta, std::uint64_t version) {
  replace_snapshot(meta, version);
  compacted = {meta.index, meta.term};
  last_index = meta.index;
  runs.clear();
  conf_indexes.clear();
  tail.clear();
  tail_bytes = 0;
}

// ---------------------------------------------------------------------------------------
// Impl: writes

DurableLogStore::Impl::Impl(DataDirectory directory, std::unique_ptr<RecordEngine> engine,
                            DurableStoreOptions options)
    : directory_(std::move(directory)), engine_(std::move(engine)), options_(std::move(options)) {}

void emit_warning(const DurableStoreOptions& options, const StorageWarning& warning) {
  if (options.on_warning) {
    options.on_warning(warning);
  } else {
    std::cerr << "synod storage warning: " << warning.message << std::endl;
  }
}

void DurableLogStore::Impl::warn(const StorageWarning& warning) const {
  emit_warning(options_, warning);
}

StorageStatus DurableLogStore::Impl::failure() const {
  std::lock_guard lock(failure_mu_);
  return failure_;
}

void DurableLogStore::Impl::fail(const StorageStatus& status) {
  std::lock_guard lock(failure_mu_);
  if (failure_.ok()) {
    failure_ =
        StorageStatus(status.code(), "the store failed and refuses writes: " + status.message());
  }
}

const PartitionIndex* DurableLogStore::Impl::find(PartitionId partition) const {
  auto it = index_.find(partition);
  return it == index_.end() ? nullptr : &it->second;
}

StorageStatus DurableLogStore::Impl::partition_error(PartitionId partition) const {
  std::lock_guard lock(damaged_mu_);
  auto it = damaged_.find(partition);
  return it == damaged_.end() ? StorageStatus() : it->second;
}

std::vector<std::pair<PartitionId, StorageStatus>> DurableLogStore::Impl::damaged_partitions()
    const {
  std::lock_guard lock(damaged_mu_);
  return {damaged_.begin(), damaged_.end()};
}

void DurableLogStore::Impl::mark_damaged(PartitionId partition, std::optional<raft::Term> term,
                                         const StorageStatus& status) const {
  std::lock_guard lock(damaged_mu_);
  if (damaged_.emplace(partition, status).second) {
    warn({partition, term, status.message() + "; the partition is no longer served"});
  }
}

void DurableLogStore::Impl::apply(PartitionId p, PartitionIndex& index, const PartitionWrite& write,
                                  EngineBatch& batch) {
  if (write.snapshot) {
    const raft::SnapshotMeta& meta = write.snapshot->meta;
    batch.delete_entries(p, 0, kMaxIndex);
    batch.put_state(records::state_key(p, StateKind::Snapshot),
                    records::encode_snapshot(p, *write.snapshot));
    batch.put_state(records::state_key(p, StateKind::Compaction),
                    records::encode_compaction(p, {meta.index, meta.term}));
    index.reset_to_snapshot(meta, ++last_snapshot_version_);
  }
  if (!write.entries.empty()) {
    const raft::Index old_last = index.last_index;
    index.truncate_from(write.entries.front().index);
    for (const raft::Entry& e : write.entries) {
      batch.put_entry(records::entry_key(p, e.index), records::encode_entry(p, e));
      index.append(e);
    }
    if (index.last_index < old_last) batch.delete_entries(p, index.last_index + 1, old_last + 1);
    index.trim_tail(options_.tail_cache_bytes, write.entries.size());
  }
  if (write.hard_state) {
    batch.put_state(records::state_key(p, StateKind::HardState),
                    records::encode_hard_state(p, *write.hard_state));
    index.hard_state = *write.hard_state;
  }
  if (write.applied_floor) {
    batch.put_state(records::state_key(p, StateKind::AppliedFloor),
                    records::encode_applied_floor(p, *write.applied_floor));
    index.applied_floor = *write.applied_floor;
  }
  if (write.compact_through && *write.compact_through > index.compacted.index) {
    const raft::Index through = *write.compact_through;
    // The rules keep `through` within the log (at most the snapshot index).
    const CompactionPoint point{through, index.term_at(through).value_or(0)};
    batch.delete_entries(p, index.compacted.index + 1, through + 1);
    batch.put_state(records::state_key(p, StateKind::Compaction),
                    records::encode_compaction(p, point));
    index.compact_to(point);
  }
}

StorageStatus DurableLogStore::Impl::write_ordered(EngineBatch& batch, std::uint64_t& seq) {
  StorageStatus st = engine_->write(batch);
  if (!st.ok()) {
    fail(st);
    return failure();
  }
  seq = written_seq_.fetch_add(1, std::memory_order_acq_rel) + 1;
  return {};
}

StorageStatus DurableLogStore::Impl::write(const WriteBatch& batch, bool sync) {
  std::uint64_t seq = written_seq_.load(std::memory_order_acquire);
  {
    std::lock_guard order(order_mu_);
    if (auto st = failure(); !st.ok()) return st;
    // Check the whole batch first so that a refused batch changes nothing.
    std::unordered_map<PartitionId, LogBounds> bounds;
    {
      std::shared_lock lock(mu_);
      for (const PartitionWrite& w : batch.writes()) {
        if (w.empty()) continue;
        if (auto damage = partition_error(w.partition); !damage.ok()) return damage;
        auto it = bounds.find(w.partition);
        if (it == bounds.end()) {
          const PartitionIndex* index = find(w.partition);
          it = bounds.emplace(w.partition, index ? index->bounds() : LogBounds{}).first;
        }
        if (auto st = check_write(it->second, w, it->second); !st.ok()) return st;
      }
    }
    if (!bounds.empty()) {
      std::unique_ptr<EngineBatch> engine_batch = engine_->new_batch();
      {
        std::unique_lock lock(mu_);
        for (const PartitionWrite& w : batch.writes()) {
          if (w.empty()) continue;
          auto [it, created] = index_.try_emplace(w.partition);
          // A new partition always gets a hard state record, so that it is found again on
          // open even when this write stores nothing else.
          if (created && !w.hard_state) {
            engine_batch->put_state(records::state_key(w.partition, StateKind::HardState),
                                    records::encode_hard_state(w.partition, {}));
          }
          apply(w.partition, it->second, w, *engine_batch);
        }
      }
      if (auto st = write_ordered(*engine_batch, seq); !st.ok()) return st;
    }
  }
  if (sync) return sync_through(seq);
  return {};
}

StorageStatus DurableLogStore::Impl::sync_through(std::uint64_t seq) {
  std::unique_lock lock(sync_mu_);
  while (synced_seq_ < seq) {
    if (auto st = failure(); !st.ok()) return st;
    if (sync_running_) {
      sync_cv_.wait(lock);
      continue;
    }
    sync_running_ = true;
    const std::uint64_t target = written_seq_.load(std::memory_order_acquire);
    lock.unlock();
    StorageStatus st = engine_->sync();
    engine_syncs_.fetch_add(1, std::memory_order_relaxed);
    lock.lock();
    sync_running_ = false;
    sync_cv_.notify_all();
    if (!st.ok()) {
      fail(st);
      return failure();
    }
    synced_seq_ = std::max(synced_seq_, target);
  }
  return failure();
}

StorageStatus DurableLogStore::Impl::create_snapshot(PartitionId partition, raft::Index index,
                                                     const raft::ConfState& conf,
                                                     raft::Bytes data) {
  std::uint64_t seq = 0;
  {
    std::lock_guard order(order_mu_);
    if (auto st = failure(); !st.ok()) return st;
    if (auto damage = partition_error(partition); !damage.ok()) return damage;
    raft::Snapshot snapshot;
    {
      std::shared_lock lock(mu_);
      const PartitionIndex* pi = find(partition);
      if (!pi) return StorageStatus::not_found(partition_text(partition) + " has no stored state");
      if (auto st = check_snapshot_creation(partition, pi->bounds(), index); !st.ok()) return st;
      snapshot.meta = {index, pi->term_at(index).value_or(0), conf};
    }
    snapshot.data = std::move(data);
    std::unique_ptr<EngineBatch> batch = engine_->new_batch();
    batch->put_state(records::state_key(partition, StateKind::Snapshot),
                     records::encode_snapshot(partition, snapshot));
    {
      std::unique_lock lock(mu_);
      index_[partition].replace_snapshot(snapshot.meta, ++last_snapshot_version_);
    }
    if (auto st = write_ordered(*batch, seq); !st.ok()) return st;
  }
  return sync_through(seq);
}

StorageStatus DurableLogStore::Impl::remove_partition(PartitionId partition) {
  std::uint64_t seq = written_seq_.load(std::memory_order_acquire);
  {
    std::lock_guard order(order_mu_);
    if (auto st = failure(); !st.ok()) return st;
    std::unique_ptr<EngineBatch> batch = engine_->new_batch();
    batch->delete_partition(partition);
    {
      std::unique_lock lock(mu_);
      index_.erase(partition);
    }
    {
      std::lock_guard lock(damaged_mu_);
      damaged_.erase(partition);
    }
    if (auto st = write_ordered(*batch, seq); !st.ok()) return st;
  }
  return sync_through(seq);
}

// ---------------------------------------------------------------------------------------
// Impl: reads

std::vector<PartitionId> DurableLogStore::Impl::partitions() const {
  std::vector<PartitionId> out;
  {
    std::shared_lock lock(mu_);
    out.reserve(index_.size());
    for (const auto& [id, index] : index_) out.push_back(id);
  }
  std::lock_guard lock(damaged_mu_);
  for (const auto& [id, status] : damaged_) {
    if (!std::binary_search(out.begin(), out.end(), id)) out.push_back(id);
  }
  std::sort(out.begin(), out.end());
  return out;
}

raft::Index DurableLogStore::Impl::applied_floor(PartitionId partition) const {
  std::shared_lock lock(mu_);
  const PartitionIndex* pi = find(partition);
  return pi ? pi->applied_floor : 0;
}

raft::HardState DurableLogStore::Impl::hard_state(PartitionId partition) const {
  std::shared_lock lock(mu_);
  const PartitionIndex* pi = find(partition);
  return pi ? pi->hard_state : raft::HardState{};
}

raft::SnapshotMeta DurableLogStore::Impl::snapshot_meta(PartitionId partition) const {
  std::shared_lock lock(mu_);
  const PartitionIndex* pi = find(partition);
  return pi ? pi->snapshot : raft::SnapshotMeta{};
}

raft::Index DurableLogStore::Impl::first_index(PartitionId partition) const {
  std::shared_lock lock(mu_);
  const PartitionIndex* pi = find(partition);
  return pi ? pi->first_index() : 1;
}

raft::Index DurableLogStore::Impl::last_index(PartitionId partition) const {
  std::shared_lock lock(mu_);
  const PartitionIndex* pi = find(partition);
  return pi ? pi->last_index : 0;
}

raft::StorageError DurableLogStore::Impl::term(PartitionId partition, raft::Index index,
                                               raft::Term& out) const {
  std::shared_lock lock(mu_);
  const PartitionIndex* pi = find(partition);
  if (!pi) {
    if (index == 0) {
      out = 0;
      return raft::StorageError::None;
    }
    return raft::StorageError::Unavailable;
  }
  if (index < pi->compacted.index) return raft::StorageError::Compacted;
  std::optional<raft::Term> t = pi->term_at(index);
  if (!t) return raft::StorageError::Unavailable;
  out = *t;
  return raft::StorageError::None;
}

raft::StorageError DurableLogStore::Impl::entries(PartitionId partition, raft::Index lo,
                                                  raft::Index hi, std::size_t max_bytes,
                                                  std::vector<raft::Entry>& out) const {
  std::shared_lock lock(mu_);
  const PartitionIndex* pi = find(partition);
  const raft::Index first = pi ? pi->first_index() : 1;
  const raft::Index last = pi ? pi->last_index : 0;
  if (lo < first) return raft::StorageError::Compacted;
  if (hi > last + 1) return raft::StorageError::Unavailable;
  if (lo >= hi) return raft::StorageError::None;
  return read_locked(partition, *pi, lo, hi, max_bytes, out);
}

bool DurableLogStore::Impl::conf_entries(PartitionId partition, raft::Index lo, raft::Index hi,
                                         std::vector<raft::Entry>& out) const {
  std::shared_lock lock(mu_);
  const PartitionIndex* pi = find(partition);
  if (!pi) return true;
  auto it = std::lower_bound(pi->conf_indexes.begin(), pi->conf_indexes.end(), lo);
  for (; it != pi->conf_indexes.end() && *it < hi; ++it) {
    if (read_locked(partition, *pi, *it, *it + 1, SIZE_MAX, out) != raft::StorageError::None) {
      return false;
    }
  }
  return true;
}

raft::StorageError DurableLogStore::Impl::read_locked(PartitionId partition,
                                                      const PartitionIndex& index, raft::Index lo,
                                                      raft::Index hi, std::size_t max_bytes,
                                                      std::vector<raft::Entry>& out) const {
  const raft::Index last = index.last_index;
  std::size_t bytes = 0;
  raft::Index next = lo;
  bool full = false;
  const raft::Index tail_first = index.tail.empty() ? last + 1 : index.tail.front().index;
  if (next < tail_first) {
    const raft::Index engine_hi = std::min(hi, tail_first);
    StorageStatus damage;
    StorageStatus st = engine_->read_entries(
        partition, next, engine_hi, [&](std::string_view key, std::string_view value) {
          PartitionId p = 0;
          raft::Index i = 0;
          if (!records::parse_entry_key(key, p, i) || p != partition || i != next) {
            damage = StorageStatus::corruption(partition_text(partition) + ": entry " +
                                               std::to_string(next) + " is missing");
            return false;
          }
          raft::Entry e;
          if (auto bad = records::decode_entry(partition, i, value, e); !bad.ok()) {
            damage = bad;
            return false;
          }
          if (next != lo && bytes + e.byte_size() > max_bytes) {
            full = true;
            return false;
          }
          bytes += e.byte_size();
          out.push_back(std::move(e));
          ++next;
          return true;
        });
    if (st.ok() && damage.ok() && !full && next < engine_hi) {
      damage = StorageStatus::corruption(partition_text(partition) + ": entry " +
                                         std::to_string(next) + " is missing");
    }
    if (!st.ok() || !damage.ok()) {
      // Serve nothing of a damaged log: Raft retries and the runtime stops the partition.
      mark_damaged(partition, index.hard_state.term, st.ok() ? damage : st);
      out.resize(out.size() - (next - lo));
      return raft::StorageError::Unavailable;
    }
    if (full) return raft::StorageError::None;
  }
  for (; next < hi; ++next) {
    const raft::Entry& e = index.tail[next - tail_first];
    if (next != lo && bytes + e.byte_size() > max_bytes) break;
    bytes += e.byte_size();
    out.push_back(e);
  }
  return raft::StorageError::None;
}

raft::StorageError DurableLogStore::Impl::snapshot(PartitionId partition,
                                                   raft::Snapshot& out) const {
  // Serves the cached snapshot, or nothing when none is stored. False: read it.
  auto cached = [&]() {
    const PartitionIndex* pi = find(partition);
    if (!pi || pi->snapshot.index == 0) {
      out = raft::Snapshot{};
    } else if (pi->snapshot_cache) {
      out = *pi->snapshot_cache;
    } else {
      return false;
    }
    return true;
  };
  {
    std::shared_lock lock(mu_);
    if (cached()) return raft::StorageError::None;
  }
  std::uint64_t version = 0;
  {
    // With order_mu_ held no writer stands between its index update and its engine
    // write, so the database holds the record the index names (not an older one, or none).
    std::lock_guard order(order_mu_);
    std::shared_lock lock(mu_);
    if (cached()) return raft::StorageError::None;
    version = find(partition)->snapshot_version;
  }
  // The read itself holds no lock: a snapshot may be large, and writers must not wait.
  raft::Snapshot snap;
  std::string value;
  StorageStatus st = engine_->read_state(records::state_key(partition, StateKind::Snapshot), value);
  snapshot_reads_.fetch_add(1, std::memory_order_relaxed);
  if (st.ok()) st = records::decode_snapshot(partition, value, snap);
  std::unique_lock lock(mu_);
  const PartitionIndex* pi = find(partition);
  const bool current = pi && pi->snapshot_version == version;
  if (!st.ok()) {
    // Damage, unless the record was replaced or removed during the read.
    if (current) mark_damaged(partition, pi->hard_state.term, st);
    return raft::StorageError::SnapshotTemporarilyUnavailable;
  }
  // A newer snapshot written during the read may be what was read; it is served, but
  // cached only under its own version, by a later call.
  if (current) pi->snapshot_cache = snap;
  out = std::move(snap);
  return raft::StorageError::None;
}

// ---------------------------------------------------------------------------------------
// Impl: recovery

StorageStatus DurableLogStore::Impl::recover() {
  std::map<PartitionId, StorageStatus> damage;
  auto damage_once = [&](PartitionId p, StorageStatus st) { damage.emplace(p, std::move(st)); };

  StorageStatus store_error;
  StorageStatus st = engine_->scan_states([&](std::string_view key, std::string_view value) {
    PartitionId p = 0;
    StateKind kind{};
    if (!records::parse_state_key(key, p, kind)) {
      if (key.size() == records::kStateKeySize) {
        p = records::key_partition(key);
        damage_once(
            p, StorageStatus::corruption(partition_text(p) + ": a state record of unknown kind " +
                                         std::to_string(static_cast<int>(key[8]))));
        return true;
      }
      store_error = StorageStatus::corruption("a state record has a malformed key of " +
                                              std::to_string(key.size()) + " bytes");
      return false;
    }
    PartitionIndex& pi = index_[p];
    StorageStatus bad;
    switch (kind) {
      case StateKind::HardState:
        bad = records::decode_hard_state(p, value, pi.hard_state);
        break;
      case StateKind::Snapshot:
        bad = records::decode_snapshot_meta(p, value, pi.snapshot);
        pi.snapshot_version = ++last_snapshot_version_;
        break;
      case StateKind::AppliedFloor:
        bad = records::decode_applied_floor(p, value, pi.applied_floor);
        break;
      case StateKind::Compaction:
        bad = records::decode_compaction(p, value, pi.compacted);
        break;
    }
    if (!bad.ok()) damage_once(p, bad);
    return true;
  });
  if (!st.ok()) return st;
  if (!store_error.ok()) return store_error;

  for (auto& [p, pi] : index_) pi.last_index = pi.compacted.index;

  // Every entry is read once: its checksum verified, the log checked for gaps and for
  // terms going back, and the term runs built.
  st = engine_->scan_entries([&](std::string_view key, std::string_view value) {
    PartitionId p = 0;
    raft::Index i = 0;
    if (!records::parse_entry_key(key, p, i)) {
      store_error = StorageStatus::corruption("an entry record has a malformed key of " +
                                              std::to_string(key.size()) + " bytes");
      return false;
    }
    if (damage.count(p)) return true;
    auto [it, created] = index_.try_emplace(p);
    PartitionIndex& pi = it->second;
    if (created) pi.last_index = pi.compacted.index;
    if (i != pi.last_index + 1) {
      damage_once(p, StorageStatus::corruption(
                         partition_text(p) + ": entry " + std::to_string(pi.last_index + 1) +
                         " is missing (the next stored entry is " + std::to_string(i) + ")"));
      return true;
    }
    raft::Term term = 0;
    raft::EntryType type = raft::EntryType::Normal;
    if (auto bad = records::decode_entry_term(p, i, value, term, &type); !bad.ok()) {
      damage_once(p, bad);
      return true;
    }
    if (!pi.runs.empty() && term < pi.runs.back().term) {
      damage_once(p, StorageStatus::corruption(partition_text(p) + ": entry " + std::to_string(i) +
                                               " has a lower term than the entry before it"));
      return true;
    }
    if (pi.runs.empty() || pi.runs.back().term != term) pi.runs.push_back({i, term});
    if (type == raft::EntryType::ConfChange) pi.conf_indexes.push_back(i);
    pi.last_index = i;
    return true;
  });
  if (!st.ok()) return st;
  if (!store_error.ok()) return store_error;

  for (auto& [p, pi] : index_) {
    if (damage.count(p)) continue;
    if (pi.snapshot.index < pi.compacted.index) {
      damage_once(p, StorageStatus::corruption(
                         partition_text(p) + ": the log is compacted through index " +
                         std::to_string(pi.compacted.index) + ", beyond its snapshot at " +
                         std::to_string(pi.snapshot.index)));
    } else if (pi.hard_state.commit > pi.last_index) {
      damage_once(
          p, StorageStatus::corruption(partition_text(p) + ": the hard state commits index " +
                                       std::to_string(pi.hard_state.commit) +
                                       " but the log ends at " + std::to_string(pi.last_index)));
    } else if (pi.last_index > pi.compacted.index && !pi.runs.empty() &&
               pi.runs.front().first != pi.compacted.index + 1) {
      damage_once(
          p, StorageStatus::corruption(partition_text(p) + ": entry " +
                                       std::to_string(pi.compacted.index + 1) + " is missing"));
    }
  }
  for (auto& [p, status] : damage) {
    index_.erase(p);
    warn({p, std::nullopt, status.message() + "; the partition is not served"});
  }
  damaged_ = std::move(damage);
  return {};
}

// ---------------------------------------------------------------------------------------
// DurableLogStore

namespace {

class DurableView final : public raft::LogStorage {
 public:
  DurableView(std::shared_ptr<const DurableLogStore::Impl> impl, PartitionId partition)
      : impl_(std::move(impl)), partition_(partition) {}

  raft::HardState hard_state() const override { return impl_->hard_state(partition_); }
  raft::SnapshotMeta snapshot_meta() const override { return impl_->snapshot_meta(partition_); }
  raft::StorageError entries(raft::Index lo, raft::Index hi, std::size_t max_bytes,
                             std::vector<raft::Entry>& out) const override {
    return impl_->entries(partition_, lo, hi, max_bytes, out);
  }
  raft::StorageError term(raft::Index index, raft::Term& out) const override {
    return impl_->term(partition_, index, out);
  }
  raft::Index first_index() const override { return impl_->first_index(partition_); }
  raft::Index last_index() const override { return impl_->last_index(partition_); }
  raft::StorageError snapshot(raft::Snapshot& out) const override {
    return impl_->snapshot(partition_, out);
  }
  bool conf_entries(raft::Index lo, raft::Index hi, std::vector<raft::Entry>& out) const override {
    return impl_->conf_entries(partition_, lo, hi, out);
  }

 private:
  std::shared_ptr<const DurableLogStore::Impl> impl_;
  PartitionId partition_;
};

}  // namespace

DurableLogStore::DurableLogStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DurableLogStore::~DurableLogStore() = default;

StorageStatus DurableLogStore::write(const WriteBatch& batch, bool sync) {
  StorageStatus st = impl_->write(batch, sync);
  if (st.ok()) count_write(batch, sync);
  return st;
}

std::shared_ptr<raft::LogStorage> DurableLogStore::open_partition(PartitionId partition) {
  return std::make_shared<DurableView>(impl_, partition);
}

std::vector<PartitionId> DurableLogStore::partitions() const { return impl_->partitions(); }

raft::Index DurableLogStore::applied_floor(PartitionId partition) const {
  return impl_->applied_floor(partition);
}

StorageStatus DurableLogStore::create_snapshot(PartitionId partition, raft::Index index,
                                               const raft::ConfState& conf, raft::Bytes data) {
  StorageStatus st = impl_->create_snapshot(partition, index, conf, std::move(data));
  if (st.ok()) count_sync();
  return st;
}

StorageStatus DurableLogStore::remove_partition(PartitionId partition) {
  StorageStatus st = impl_->remove_partition(partition);
  if (st.ok()) count_sync();
  return st;
}

StorageStatus DurableLogStore::partition_error(PartitionId partition) const {
  return impl_->partition_error(partition);
}

std::vector<std::pair<PartitionId, StorageStatus>> DurableLogStore::damaged_partitions() const {
  return impl_->damaged_partitions();
}

std::uint64_t DurableLogStore::engine_syncs() const { return impl_->engine_syncs(); }

std::uint64_t DurableLogStore::snapshot_reads() const { return impl_->snapshot_reads(); }

const std::string& DurableLogStore::directory() const { return impl_->directory(); }

}  // namespace synod::storage
