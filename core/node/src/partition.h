// The partition record: one Raft group hosted by this node and the state around it.
//
// Shared ownership: the partition table, the run queue, the set of ticking partitions and
// a running cycle each hold a PartitionPtr, so a partition removed from the table lives
// until the last of them lets go, and no thread ever holds a pointer that can dangle.
//
// Who touches what:
//   - inbox: any thread (its own mutex);
//   - raft, pending, applied, leader, idle_ticks, retired: only the cycle that has
//     claimed the partition (RunQueue guarantees one at a time);
//   - scheduled: RunQueue's mutex; quiescent: Liveness's mutex;
//   - the published_* fields and `delivered`: written by the claiming cycle, read by any.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>

#include "inbox.h"
#include "pending_requests.h"
#include "synod/raft/raw_node.h"

namespace synod::node {

struct Partition {
  Partition(PartitionId partition_id, std::shared_ptr<raft::LogStorage> log,
            std::unique_ptr<raft::RawNode> node, std::size_t max_queued_requests);

  const PartitionId id;
  // Declared before `raft`, which reads it, so that it is destroyed after.
  const std::shared_ptr<raft::LogStorage> storage;
  const std::unique_ptr<raft::RawNode> raft;
  Inbox inbox;

  PendingRequests pending;
  Index applied = 0;
  NodeId leader = raft::kNoNode;
  int idle_ticks = 0;
  bool retired = false;

  bool scheduled = false;
  bool quiescent = false;

  std::atomic<NodeId> published_leader{raft::kNoNode};
  std::atomic<bool> published_is_leader{false};
  // The highest index handed to the host (or covered by a snapshot): the bound for
  // report_applied, which the apply handler itself may call for the entry it was given.
  std::atomic<Index> delivered{0};

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
