// Snapshotter: the snapshot and compaction part of a cycle (snapshots.h says what the host
// sees). Per partition it
//   - asks the host to save (policy, request, export) right after the entry at the
//     snapshot's index, records the finished file in the log store and compacts behind it;
//   - compacts a durable-model host's log behind its applied floor;
//   - hands a snapshot from the leader (or, after a restart, the node's own) to the host
//     to install, one at a time, holding back every later entry until the host has
//     finished;
//   - halts a partition whose snapshot cannot be installed.
// It runs inside the cycle that has claimed the partition; the host's completions come
// back through the partition's inbox.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine_context.h"
#include "partition.h"

namespace synod::node {

class Snapshotter {
 public:
  struct Hooks {
    // The partition cannot go on: the engine stops running it and reports it damaged.
    std::function<void(PartitionId, Term, const std::string& why)> halt;
    // The log store failed: the node must stop.
    std::function<void(const std::string& why)> storage_failed;
  };
  // Hands committed entries to the host, as the cycle does (for entries held behind an
  // install).
  using Deliver = std::function<void(Partition&, const std::vector<raft::Entry>&)>;

  Snapshotter(EngineContext& context, Hooks hooks);

  // Step 0: requests, finished saves and installs, the durable model's compaction, and
  // the install a restart owes the host. Adds log writes to `batch`; false when the
  // partition was halted.
  bool drain(Partition& p, InboxContents& in, storage::WriteBatch& batch, const Deliver& deliver);
  // Step 4, before the Ready's committed entries: a snapshot from the leader. While the
  // host installs it (Partition::snapshots.installing), entries go to hold().
  void begin_install(Partition& p, const raft::SnapshotMeta& meta);
  void hold(Partition& p, std::vector<raft::Entry>& entries);
  // Step 4, per entry handed to the host.
  void count(Partition& p, const raft::Entry& entry);
  // The end of steps 0 and 4: starts the save a policy, a request or a follower calls for,
  // at the index last handed to the host.
  void maybe_save(Partition& p);

 private:
  // The handler for `p`'s snapshots: the engine's own for partition 0, the host's otherwise.
  const SnapshotHandler& handler(const Partition& p) const;
  bool enabled(const Partition& p) const;
  bool durable(const Partition& p) const;
  void install(Partition& p, const raft::SnapshotMeta& meta, bool from_leader);
  void installed(Partition& p, const SnapshotOutcome& outcome, storage::WriteBatch& batch,
                 const Deliver& deliver);
  void save(Partition& p, SnapshotReason reason);
  void saved(Partition& p, const SnapshotOutcome& outcome, storage::WriteBatch& batch);
  // Records `meta` as the latest snapshot in the log store and compacts behind it.
  bool record(Partition& p, const raft::SnapshotMeta& meta, storage::WriteBatch& batch);
  void compact(Partition& p, Index through, storage::WriteBatch& batch);
  void compact_behind_floor(Partition& p, storage::WriteBatch& batch);
  void halt(Partition& p, const std::string& why);

  EngineContext& ctx_;
  const Hooks hooks_;
};

}  // namespace synod::node
