// Liveness and quiescence.
//
// A partition idle for quiesce_after_ticks stops ticking (no per-partition traffic); any
// work wakes it. While partitions are quiescent the nodes exchange one liveness heartbeat
// per node pair, and a peer silent for an election timeout wakes the partitions it led
// (and those this node leads, so that check-quorum notices if this node is the one cut
// off). A partition that knows no leader, or whose leader's node is silent, must elect:
// it never quiesces, and one found quiescent so (its leader fell silent as it quiesced,
// or a message took its leader away) is woken by the next sweep (needs_election).
//
// Every request answered: a partition never quiesces while it has a request waiting or
// queued (maybe_quiesce), so the ticks that expire requests keep coming.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

#include "partition.h"

namespace synod::node {

class Liveness {
 public:
  // `quiesce_after_ticks` 0: never quiesce. `silence` is how long a peer may be unheard.
  Liveness(int quiesce_after_ticks, env::Duration silence);

  // Partitions start and stop being hosted.
  void add(const PartitionPtr& partition);
  void remove(const PartitionPtr& partition);
  // The partitions that tick, ordered by id (so a simulation seed replays the same way).
  std::vector<PartitionPtr> ticking() const;
  bool quiescent(const Partition& partition) const;
  // Makes a quiescent partition tick again; it then counts as active. Returns whether it
  // was quiescent.
  bool wake(const PartitionPtr& partition);
  // Whether the cycle should check quiescence (and build the full Raft state for it).
  bool may_quiesce(const Partition& partition) const;
  // Quiesces the partition if it is settled: a leader known whose node is not silent, no
  // request waiting or queued, everything committed, applied and replicated to every
  // follower.
  void maybe_quiesce(const PartitionPtr& partition, const raft::RaftState& state);

  // The nodes this node exchanges liveness with.
  void set_peers(std::vector<NodeId> peers);
  std::vector<NodeId> peers() const;
  void heard(NodeId peer, env::TimePoint now);
  // Called on every tick: the peers that have just become silent.
  std::vector<NodeId> newly_silent(env::TimePoint now);
  // Whether a partition that knows `leader` as its leader must tick to elect another: no
  // leader known, or its node silent.
  bool needs_election(NodeId leader) const;

 private:
  const int quiesce_after_ticks_;
  const env::Duration silence_;

  mutable std::mutex mu_;
  std::map<PartitionId, PartitionPtr> active_;

  mutable std::mutex peers_mu_;
  std::vector<NodeId> peers_;
  std::map<NodeId, env::TimePoint> last_heard_;
  std::set<NodeId> silent_;

  bool needs_election_locked(NodeId leader) const;  // peers_mu_ held
};

}  // namespace synod::node
