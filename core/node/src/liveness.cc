#include "liveness.h"

#include <algorithm>

namespace synod::node {

Liveness::Liveness(int quiesce_after_ticks, env::Duration silence)
    : quiesce_after_ticks_(quiesce_after_ticks), silence_(silence) {}

void Liveness::add(const PartitionPtr& partition) {
  std::lock_guard lock(mu_);
  partition->quiescent = false;
  active_.emplace(partition->id, partition);
}

void Liveness::remove(const PartitionPtr& partition) {
  std::lock_guard lock(mu_);
  auto it = active_.find(partition->id);
  if (it != active_.end() && it->second == partition) active_.erase(it);
}

std::vector<PartitionPtr> Liveness::ticking() const {
  std::lock_guard lock(mu_);
  std::vector<PartitionPtr> out;
  out.reserve(active_.size());
  for (const auto& [id, p] : active_) out.push_back(p);
  return out;
}

bool Liveness::quiescent(const Partition& partition) const {
  std::lock_guard lock(mu_);
  return partition.quiescent;
}

bool Liveness::wake(const PartitionPtr& partition) {
  {
    std::lock_guard lock(mu_);
    if (!partition->quiescent) return false;
    partition->quiescent = false;
    active_.emplace(partition->id, partition);
  }
  partition->inbox.mark_activity();
  return true;
}

bool Liveness::may_quiesce(const Partition& partition) const {
  return quiesce_after_ticks_ > 0 && partition.idle_ticks >= quiesce_after_ticks_;
}

void Liveness::maybe_quiesce(const PartitionPtr& partition, const raft::RaftState& state) {
  Partition& p = *partition;
  if (!may_quiesce(p)) return;
  const bool settled = state.soft_state.leader != raft::kNoNode && p.pending.empty() &&
                       state.hard_state.commit == state.last_index &&
                       state.applied == state.hard_state.commit &&
                       state.transfer_target == raft::kNoNode;
  if (!settled) return;
  for (const auto& peer : state.peers) {
    if (peer.match != state.last_index) return;  // a follower still needs entries
  }
  std::lock_guard lock(mu_);
  // Under mu_, so that a wake() racing with this either finds the partition quiescent or
  // left work in the inbox that this check sees. Likewise the leader's silence: the
  // engine wakes a silent leader's partitions after newly_silent() has marked it, so
  // either this check sees the mark or that wake finds the partition quiescent.
  if (!p.inbox.empty()) return;
  {
    std::lock_guard peers_lock(peers_mu_);
    if (needs_election_locked(state.soft_state.leader)) return;
  }
  auto it = active_.find(p.id);
  if (it == active_.end() || it->second != partition) return;  // removed meanwhile
  p.quiescent = true;
  active_.erase(it);
}

void Liveness::set_peers(std::vector<NodeId> peers) {
  std::lock_guard lock(peers_mu_);
  peers_ = std::move(peers);
}

std::vector<NodeId> Liveness::peers() const {
  std::lock_guard lock(peers_mu_);
  return peers_;
}

void Liveness::heard(NodeId peer, env::TimePoint now) {
  std::lock_guard lock(peers_mu_);
  last_heard_[peer] = now;
}

std::vector<NodeId> Liveness::newly_silent(env::TimePoint now) {
  std::lock_guard lock(peers_mu_);
  std::vector<NodeId> out;
  for (NodeId peer : peers_) {
    auto [it, fresh] = last_heard_.emplace(peer, now);
    if (fresh || now - it->second <= silence_) {
      silent_.erase(peer);
    } else if (silent_.insert(peer).second) {
      out.push_back(peer);
    }
  }
  return out;
}

bool Liveness::needs_election(NodeId leader) const {
  std::lock_guard lock(peers_mu_);
  return needs_election_locked(leader);
}

bool Liveness::needs_election_locked(NodeId leader) const {
  return leader == raft::kNoNode || silent_.count(leader) > 0;
}

}  // namespace synod::node
