// The partition record: one Raft group hosted by this node and the state around it.
//
// Shared ownership: the partition table, the run queue, the set of ticking partitions and
// a running cycle each hold a PartitionPtr, so a partition removed from the table lives
// until the last of them lets go, and no thread ever holds a pointer that can dangle.
//
// Who touches what:
//   - inbox: any thread (its own mutex);
//   - raft, pending, applied, leader, idle_ticks, retired, snapshots: only the cycle that
//     has claimed the partition (RunQueue guarantees one at a time);
//   - scheduled: RunQueue's mutex; quiescent: Liveness's mutex;
//   - the published_* fields and `delivered`: written by the claiming cycle, read by any.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "inbox.h"
#include "pending_requests.h"
#include "snapshot_log_view.h"
#include "synod/raft/raw_node.h"

namespace synod::node {

// Where a partition stands with snapshots and compaction (see Snapshotter).
struct SnapshotProgress {
  // The latest snapshot the log store records, and how far the log is compacted.
  raft::SnapshotMeta latest;
  Index compacted_through = 0;
  // The host's durable applied floor as stored (the durable model compacts behind it).
  Index floor = 0;
  // Applied since the latest snapshot (the in-memory model's policy).
  std::uint64_t entries_since = 0;
  std::uint64_t bytes_since = 0;
  // A save the host has not finished; a follower wanted a snapshot no file holds.
  bool saving = false;
  bool export_wanted = false;
  // The snapshot the host is installing; committed entries wait in `held` meanwhile.
  std::optional<raft::SnapshotMeta> installing;
  std::vector<raft::Entry> held;
  // A snapshot from the leader that arrived while the host was installing another (the
  // node's own after a restart, or an earlier one): the host gets it once that is done.
  std::optional<raft::SnapshotMeta> next_install;
  // Set on open when the host must first be given the latest snapshot again.
  std::optional<raft::SnapshotMeta> reinstall;
};

// What a partition's cycles count for the metrics (node_metrics.h): written by the
// claiming cycle, read by a scrape.
struct PartitionCounters {
  std::atomic<std::uint64_t> elections_started{0};
  std::atomic<std::uint64_t> elections_won{0};
  std::atomic<std::uint64_t> prevotes_lost{0};
  std::atomic<std::uint64_t> leader_changes{0};
};

struct Partition : std::enable_shared_from_this<Partition> {
  Partition(PartitionId partition_id, std::shared_ptr<SnapshotLogView> log,
            std::unique_ptr<raft::RawNode> node, std::size_t max_queued_requests);

  const PartitionId id;
  // Declared before `raft`, which reads it, so that it is destroyed after.
  const std::shared_ptr<SnapshotLogView> storage;
  const std::unique_ptr<raft::RawNode> raft;
  Inbox inbox;

  PendingRequests pending;
  Index applied = 0;
  NodeId leader = raft::kNoNode;
  int idle_ticks = 0;
  bool retired = false;
  SnapshotProgress snapshots;
  // The term and role the last Ready showed, to tell elections from its changes.
  Term term_seen = 0;
  raft::Role role_seen = raft::Role::Follower;

  bool scheduled = false;
  bool quiescent = false;

  std::atomic<NodeId> published_leader{raft::kNoNode};
  std::atomic<bool> published_is_leader{false};
  // The highest index handed to the host (or covered by a snapshot): the bound for
  // report_applied, which the apply handler itself may call for the entry it was given.
  std::atomic<Index> delivered{0};
  // For the metrics: the term, and the requests Raft has taken and not yet answered.
  std::atomic<Term> published_term{0};
  std::atomic<std::size_t> waiting_proposals{0};
  std::atomic<std::size_t> waiting_reads{0};
  PartitionCounters counters;

  // The state status() reports: scalars refreshed every cycle, the configuration and the
  // peers' progress only when they may have changed (see Cycle::publish).
  raft::RaftState published() const;
  // Whether `node` is a voter in the published configuration.
  bool published_voter(NodeId node) const;
  void publish(raft::RaftState state, bool with_conf_and_peers);

 private:
  mutable std::mutex published_mu_;
  raft::RaftState published_;
};

using PartitionPtr = std::shared_ptr<Partition>;

}  // namespace synod::node
