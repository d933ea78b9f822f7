#include "partition.h"

#include <algorithm>

namespace synod::node {

Partition::Partition(PartitionId partition_id, std::shared_ptr<SnapshotLogView> log,
                     std::unique_ptr<raft::RawNode> node, std::size_t max_queued_requests)
    : id(partition_id), storage(std::move(log)), raft(std::move(node)), inbox(max_queued_requests) {
  published_ = raft->state();
  applied = published_.applied;
  delivered.store(applied);
  term_seen = published_.hard_state.term;
  role_seen = published_.soft_state.role;
  published_term.store(term_seen);
}

raft::RaftState Partition::published() const {
  std::lock_guard lock(published_mu_);
  return published_;
}

bool Partition::published_voter(NodeId node) const {
  std::lock_guard lock(published_mu_);
  const auto& voters = published_.conf.voters;
  return std::find(voters.begin(), voters.end(), node) != voters.end();
}

void Partition::publish(raft::RaftState state, bool with_conf_and_peers) {
  std::lock_guard lock(published_mu_);
  if (!with_conf_and_peers) {
    state.conf = std::move(published_.conf);
    state.peers = std::move(published_.peers);
  }
  published_ = std::move(state);
}

}  // namespace synod::node
