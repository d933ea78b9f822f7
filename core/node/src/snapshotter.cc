#include "snapshotter.h"

#include <algorithm>
#include <atomic>
#include <mutex>

#include "system_runtime.h"

namespace synod::node {
namespace {

using Finish = std::function<void(Status, const std::string&)>;

// The done() a request carries: the first call counts, and a request the host drops
// without calling it (every copy destroyed) ends as failed instead of waiting forever.
Finish completion(Finish finish) {
  struct Once {
    Finish finish;
    std::atomic<bool> called{false};
    ~Once() {
      if (!called.exchange(true)) finish(Status::StorageFailure, "the host dropped the request");
    }
  };
  auto once = std::make_shared<Once>();
  once->finish = std::move(finish);
  return [once](Status status, const std::string& message) {
    if (!once->called.exchange(true)) once->finish(status, message);
  };
}

// The host's end of a snapshot file being written.
class FileWriter final : public SnapshotWriter {
 public:
  explicit FileWriter(std::unique_ptr<storage::SnapshotSink> sink) : sink_(std::move(sink)) {}

  bool write(const void* data, std::size_t size) override {
    std::lock_guard lock(mu_);
    if (!why_.empty()) return false;
    if (!sink_) {
      why_ = "the snapshot is already finished";
      return false;
    }
    if (auto st = sink_->write(data, size); !st.ok()) {
      why_ = st.to_string();
      return false;
    }
    return true;
  }
  const std::string& why() const override { return why_; }

  // Completes the file; nothing is accepted afterwards.
  storage::StorageStatus commit() {
    std::lock_guard lock(mu_);
    auto sink = std::move(sink_);
    if (!why_.empty()) return storage::StorageStatus::io_error(why_);
    if (!sink) return storage::StorageStatus::invalid_argument("the snapshot is already finished");
    storage::SnapshotInfo info;
    return sink->commit(&info);
  }
  // Deletes what was written.
  void abandon() {
    std::lock_guard lock(mu_);
    sink_.reset();
    if (why_.empty()) why_ = "the snapshot was abandoned";
  }

 private:
  std::mutex mu_;
  std::unique_ptr<storage::SnapshotSink> sink_;
  std::string why_;
};

// The host's end of a snapshot file being installed.
class FileReader final : public SnapshotReader {
 public:
  explicit FileReader(std::unique_ptr<storage::SnapshotSource> source)
      : source_(std::move(source)) {}

  std::uint64_t size() const override { return source_->info().data_bytes; }
  std::int64_t read(void* out, std::size_t size) override {
    std::lock_guard lock(mu_);
    if (!why_.empty()) return -1;
    std::size_t got = 0;
    if (auto st = source_->read(out, size, &got); !st.ok()) {
      why_ = st.to_string();
      return -1;
    }
    return static_cast<std::int64_t>(got);
  }
  const std::string& why() const override { return why_; }

 private:
  std::mutex mu_;
  const std::unique_ptr<storage::SnapshotSource> source_;
  std::string why_;
};

std::string at(Index index) { return "the snapshot at index " + std::to_string(index); }

}  // namespace

Snapshotter::Snapshotter(EngineContext& context, Hooks hooks)
    : ctx_(context), hooks_(std::move(hooks)) {}

const SnapshotHandler& Snapshotter::handler(const Partition& p) const {
  // Partition 0's state is the engine's (system_runtime.h), never the host's.
  return p.id == kSystemPartition ? ctx_.system_snapshot_handler : ctx_.snapshot_handler;
}

bool Snapshotter::enabled(const Partition& p) const {
  const SnapshotHandler& h = handler(p);
  return ctx_.config.snapshot_store && h.save && h.install;
}

bool Snapshotter::durable(const Partition& p) const {
  return p.id != kSystemPartition && ctx_.config.snapshots.model == StateMachineModel::Durable;
}

bool Snapshotter::drain(Partition& p, InboxContents& in, storage::WriteBatch& batch,
                        const Deliver& deliver) {
  for (auto& done : in.snapshot_requests) {
    if (enabled(p)) {
      p.pending.add_snapshot_request(std::move(done));
    } else if (done) {
      done(Status::InvalidArgument, 0);
    }
  }
  for (const auto& outcome : in.saved) saved(p, outcome, batch);
  for (const auto& outcome : in.installed) {
    installed(p, outcome, batch, deliver);
    if (p.retired) return false;
  }
  auto& s = p.snapshots;
  if (s.reinstall && !s.installing) {
    const raft::SnapshotMeta meta = *std::exchange(s.reinstall, std::nullopt);
    install(p, meta, false);
    if (p.retired) return false;
  }
  // Behind the floor already stored, never one that is only now being written.
  compact_behind_floor(p, batch);
  if (in.applied_report) s.floor = std::max(s.floor, *in.applied_report);
  return !p.retired;
}

void Snapshotter::begin_install(Partition& p, const raft::SnapshotMeta& meta) {
  auto& s = p.snapshots;
  // The log store replaced the log with the snapshot in this cycle's write.
  s.latest = meta;
  s.compacted_through = meta.index;
  if (s.installing) {
    // One install at a time, in log order: this one waits for the host to finish the one
    // under way (whose file must not be deleted under it). It supersedes any snapshot
    // already waiting and the entries held so far, which it covers.
    s.next_install = meta;
    std::erase_if(s.held, [&](const raft::Entry& e) { return e.index <= meta.index; });
    return;
  }
  install(p, meta, true);
}

void Snapshotter::hold(Partition& p, std::vector<raft::Entry>& entries) {
  auto& held = p.snapshots.held;
  held.insert(held.end(), std::make_move_iterator(entries.begin()),
              std::make_move_iterator(entries.end()));
  entries.clear();
}

void Snapshotter::count(Partition& p, const raft::Entry& entry) {
  ++p.snapshots.entries_since;
  p.snapshots.bytes_since += entry.data.size();
}

void Snapshotter::install(Partition& p, const raft::SnapshotMeta& meta, bool from_leader) {
  if (!enabled(p)) {
    return halt(p, at(meta.index) + " must be installed, but the host has no snapshot handler");
  }
  storage::SnapshotStore& files = *ctx_.config.snapshot_store;
  // A file received from the leader was checked as it arrived; one found on restart is
  // read through once before the host sees a byte of it.
  if (!from_leader) {
    if (auto st = files.verify(p.id, meta.index); !st.ok()) {
      return halt(p, at(meta.index) + " cannot be installed again: " + st.to_string());
    }
  }
  std::unique_ptr<storage::SnapshotSource> source;
  if (auto st = files.open_data(p.id, meta.index, &source); !st.ok()) {
    return halt(p, at(meta.index) + " cannot be opened: " + st.to_string());
  }
  p.snapshots.installing = meta;
  InstallRequest request;
  request.partition = p.id;
  request.index = meta.index;
  request.term = meta.term;
  request.from_leader = from_leader;
  request.reader = std::make_shared<FileReader>(std::move(source));
  request.done = completion([weak = p.weak_from_this(), meta, wake = ctx_.wake](
                                Status status, const std::string& message) {
    if (auto partition = weak.lock()) {
      partition->inbox.note_installed({meta, status, message});
      wake(partition);
    }
  });
  handler(p).install(std::move(request));
}

void Snapshotter::installed(Partition& p, const SnapshotOutcome& outcome,
                            storage::WriteBatch& batch, const Deliver& deliver) {
  auto& s = p.snapshots;
  if (!s.installing || s.installing->index != outcome.meta.index) return;
  if (outcome.status != Status::Ok) {
    return halt(p, "the host failed to install " + at(outcome.meta.index) + ": " +
                       (outcome.message.empty() ? to_string(outcome.status) : outcome.message));
  }
  const Index index = outcome.meta.index;
  s.installing.reset();
  s.entries_since = 0;
  s.bytes_since = 0;
  p.applied = index;
  p.delivered.store(index);
  p.pending.on_snapshot_installed(outcome.meta);
  if (durable(p)) {
    // The host's database now holds the snapshot's state: a restart must not install it
    // again.
    batch.add(p.id).applied_floor = index;
    s.floor = std::max(s.floor, index);
  }
  (void)ctx_.config.snapshot_store->remove_older(p.id, index);
  // The entries held stay held for a snapshot that waited for this one.
  if (s.next_install) return install(p, *std::exchange(s.next_install, std::nullopt), true);
  std::vector<raft::Entry> held = std::move(s.held);
  s.held.clear();
  deliver(p, held);
}

void Snapshotter::maybe_save(Partition& p) {
  auto& s = p.snapshots;
  if (p.storage->take_export_wanted()) s.export_wanted = true;
  if (!enabled(p) || s.saving || s.installing || s.reinstall || p.retired) return;
  SnapshotPolicy policy = ctx_.config.snapshots;
  if (p.id == kSystemPartition) {
    policy.every_entries = kSystemSnapshotEntries;
    policy.every_bytes = 0;
  }
  SnapshotReason reason;
  if (s.export_wanted) {
    reason = SnapshotReason::Export;
  } else if (p.pending.snapshot_requested()) {
    reason = SnapshotReason::Requested;
  } else if (!durable(p) &&
             ((policy.every_entries > 0 && s.entries_since >= policy.every_entries) ||
              (policy.every_bytes > 0 && s.bytes_since >= policy.every_bytes))) {
    reason = SnapshotReason::Policy;
  } else {
    return;
  }
  save(p, reason);
}

void Snapshotter::save(Partition& p, SnapshotReason reason) {
  auto& s = p.snapshots;
  storage::SnapshotStore& files = *ctx_.config.snapshot_store;
  const Index index = p.applied;
  const auto latest_file = files.latest(p.id);
  if (reason == SnapshotReason::Export) {
    // Raft may ask again before it sees the file a previous export wrote.
    if (latest_file && latest_file->meta.index + 1 >= p.storage->first_index()) {
      s.export_wanted = false;
      return;
    }
  } else {
    // The durable model's latest record may have no file: only a file answers a request.
    const Index newest = durable(p) ? (latest_file ? latest_file->meta.index : 0) : s.latest.index;
    if (index <= newest) {
      // Nothing applied since the latest snapshot: it is the answer.
      s.entries_since = 0;
      s.bytes_since = 0;
      p.pending.complete_snapshot_requests(index == 0 ? Status::InvalidArgument : Status::Ok,
                                           newest);
      return;
    }
  }
  raft::SnapshotMeta meta;
  meta.index = index;
  const auto conf = p.raft->conf_state_at(index);
  if (index == 0 || p.storage->term(index, meta.term) != raft::StorageError::None || !conf) {
    // Nothing applied yet, or a configuration change not yet applied: a later cycle.
    return;
  }
  meta.conf_state = *conf;
  std::unique_ptr<storage::SnapshotSink> sink;
  if (auto st = files.create(p.id, meta, &sink); !st.ok()) {
    s.entries_since = 0;
    s.bytes_since = 0;
    p.pending.complete_snapshot_requests(Status::StorageFailure, 0);
    return;
  }
  s.saving = true;
  s.export_wanted = false;
  s.entries_since = 0;
  s.bytes_since = 0;
  auto writer = std::make_shared<FileWriter>(std::move(sink));
  SaveRequest request;
  request.partition = p.id;
  request.index = index;
  request.reason = reason;
  request.writer = writer;
  request.done = completion([weak = p.weak_from_this(), meta, writer, wake = ctx_.wake](
                                Status status, const std::string& message) {
    SnapshotOutcome outcome{meta, status, message};
    if (status == Status::Ok) {
      // On the host's thread: the file's sync is not a cycle's to wait for.
      if (auto st = writer->commit(); !st.ok()) {
        outcome.status = Status::StorageFailure;
        outcome.message = "the snapshot file could not be completed: " + st.to_string();
      }
    } else {
      writer->abandon();
    }
    if (auto partition = weak.lock()) {
      partition->inbox.note_saved(std::move(outcome));
      wake(partition);
    }
  });
  handler(p).save(std::move(request));
}

void Snapshotter::saved(Partition& p, const SnapshotOutcome& outcome, storage::WriteBatch& batch) {
  auto& s = p.snapshots;
  s.saving = false;
  if (outcome.status != Status::Ok) {
    p.pending.complete_snapshot_requests(Status::StorageFailure, 0);
    return;
  }
  const Index index = outcome.meta.index;
  if (durable(p)) {
    // An export serves followers from its file; the host's floor, not the file, is what a
    // restart honours, so the log store does not record it.
    (void)ctx_.config.snapshot_store->remove_older(p.id, index);
  } else if (index > s.latest.index && !record(p, outcome.meta, batch)) {
    return;
  }
  p.pending.complete_snapshot_requests(Status::Ok, index);
}

bool Snapshotter::record(Partition& p, const raft::SnapshotMeta& meta, storage::WriteBatch& batch) {
  auto& s = p.snapshots;
  const auto st = ctx_.config.store->create_snapshot(p.id, meta.index, meta.conf_state, {});
  if (!st.ok()) {
    p.pending.complete_snapshot_requests(Status::StorageFailure, 0);
    if (st.code() != storage::StorageCode::InvalidArgument) hooks_.storage_failed(st.to_string());
    return false;
  }
  s.latest = meta;
  (void)ctx_.config.snapshot_store->remove_older(p.id, meta.index);
  const std::uint64_t keep = ctx_.config.snapshots.keep_entries;
  compact(p, meta.index > keep ? meta.index - keep : 0, batch);
  return true;
}

void Snapshotter::compact(Partition& p, Index through, storage::WriteBatch& batch) {
  auto& s = p.snapshots;
  if (through <= s.compacted_through) return;
  batch.add(p.id).compact_through = through;
  s.compacted_through = through;
}

void Snapshotter::compact_behind_floor(Partition& p, storage::WriteBatch& batch) {
  auto& s = p.snapshots;
  if (!durable(p) || !enabled(p) || s.installing || s.reinstall) return;
  const std::uint64_t keep = ctx_.config.snapshots.keep_entries;
  // One metadata record per `keep` entries applied, not one per cycle.
  const Index floor = std::min(s.floor, p.applied);
  if (floor < s.latest.index + std::max<std::uint64_t>(keep, 1)) return;
  raft::SnapshotMeta meta;
  meta.index = floor;
  const auto conf = p.raft->conf_state_at(floor);
  if (p.storage->term(floor, meta.term) != raft::StorageError::None || !conf) return;
  meta.conf_state = *conf;
  // The compaction point needs a configuration base: a snapshot record without a file
  // (the host's database is the snapshot; an export makes the file when one is needed).
  const auto st = ctx_.config.store->create_snapshot(p.id, floor, meta.conf_state, {});
  if (!st.ok()) {
    if (st.code() != storage::StorageCode::InvalidArgument) hooks_.storage_failed(st.to_string());
    return;
  }
  s.latest = meta;
  compact(p, floor > keep ? floor - keep : 0, batch);
}

void Snapshotter::halt(Partition& p, const std::string& why) {
  p.retired = true;
  p.snapshots.held.clear();
  p.snapshots.next_install.reset();
  p.pending.close(Status::StorageFailure);
  hooks_.halt(p.id, p.raft->term(), "partition " + std::to_string(p.id) + ": " + why);
}

}  // namespace synod::node
