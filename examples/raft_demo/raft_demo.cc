// A guided tour of the Raft core: three nodes on a simulated network, driven tick by
// tick in one thread. It shows an election, replicated commits, the leader crashing, a
// new election, the old leader returning and catching up, and a linearizable read.
// Everything is deterministic: the same run prints the same story.
#include <cstdio>
#include <string>
#include <vector>

#include "synod/raft/testing/cluster.h"

namespace {

using synod::raft::kNoNode;
using synod::raft::NodeId;
using synod::raft::RaftStatus;
using synod::raft::Role;
using synod::raft::testing::Cluster;

const std::vector<NodeId> kNodes = {1, 2, 3};

void print_roles(Cluster& cluster) {
  for (NodeId id : kNodes) {
    if (!cluster.is_up(id)) {
      std::printf("    node %llu: down\n", static_cast<unsigned long long>(id));
      continue;
    }
    auto& node = cluster.node(id);
    std::printf("    node %llu: %-13s term %llu  commit %llu  applied %llu\n",
                static_cast<unsigned long long>(id), to_string(node.role()),
                static_cast<unsigned long long>(node.term()),
                static_cast<unsigned long long>(node.commit_index()),
                static_cast<unsigned long long>(cluster.applied_index(id)));
  }
}

// Ticks every node and lets the network settle until some node leads; returns the
// number of ticks it took (bounded).
int run_until_leader(Cluster& cluster, NodeId& leader) {
  for (int ticks = 1; ticks <= 200; ++ticks) {
    cluster.tick_all();
    cluster.stabilize();
    leader = cluster.leader();
    if (leader != kNoNode) return ticks;
  }
  return -1;
}

void replicate(Cluster& cluster, NodeId leader, const std::string& data) {
  auto result = cluster.propose(leader, data);
  if (result.status != RaftStatus::Ok) {
    std::printf("  propose %-12s refused: %s\n", data.c_str(), to_string(result.status));
    return;
  }
  cluster.stabilize();
  std::printf("  propose %-12s -> index %llu, term %llu, committed on", data.c_str(),
              static_cast<unsigned long long>(result.first_index),
              static_cast<unsigned long long>(result.term));
  for (NodeId id : kNodes) {
    if (cluster.is_up(id) && cluster.node(id).commit_index() >= result.first_index) {
      std::printf(" %llu", static_cast<unsigned long long>(id));
    }
  }
  std::printf("\n");
}

}  // namespace

int main() {
  Cluster cluster(kNodes);
  std::printf("Synod Raft core demo: nodes 1, 2, 3 on a simulated network.\n\n");

  std::printf(
      "1. Election. Each node waits a random 10-19 ticks before campaigning;\n"
      "   the first to time out wins a pre-vote, then the vote.\n");
  NodeId leader = kNoNode;
  int ticks = run_until_leader(cluster, leader);
  std::printf("  node %llu became leader after %d ticks\n", static_cast<unsigned long long>(leader),
              ticks);
  print_roles(cluster);

  std::printf("\n2. Replication. An entry commits once a majority has persisted it.\n");
  for (const char* data : {"set x=1", "set y=2", "set x=3"}) replicate(cluster, leader, data);

  std::printf("\n3. Failover. Node %llu crashes; the others elect a new leader.\n",
              static_cast<unsigned long long>(leader));
  const NodeId crashed = leader;
  cluster.crash(crashed);
  ticks = run_until_leader(cluster, leader);
  std::printf("  node %llu became leader after %d ticks\n", static_cast<unsigned long long>(leader),
              ticks);
  print_roles(cluster);
  for (const char* data : {"set z=4", "del y"}) replicate(cluster, leader, data);

  std::printf("\n4. Recovery. Node %llu restarts from its storage and catches up.\n",
              static_cast<unsigned long long>(crashed));
  cluster.restart(crashed);
  for (int i = 0; i < 3; ++i) {
    cluster.tick_all();
    cluster.stabilize();
  }
  print_roles(cluster);

  std::printf("\n5. A linearizable read through ReadIndex on follower %llu.\n",
              static_cast<unsigned long long>(crashed));
  cluster.node(crashed).read_index("read-1");
  cluster.stabilize();
  for (const auto& read : cluster.take_read_states(crashed)) {
    std::printf("  read %s may be served once index %llu is applied (applied: %llu)\n",
                read.context.c_str(), static_cast<unsigned long long>(read.index),
                static_cast<unsigned long long>(cluster.applied_index(crashed)));
  }

  std::printf("\n6. Every node applied the same entries:\n");
  bool same = true;
  for (NodeId id : kNodes) {
    std::printf("    node %llu state digest %016llx\n", static_cast<unsigned long long>(id),
                static_cast<unsigned long long>(cluster.state_digest(id)));
    same &= cluster.state_digest(id) == cluster.state_digest(kNodes.front());
  }
  std::printf("%s\n", same ? "  all state machines agree." : "  STATE MACHINES DIVERGED");
  return same ? 0 : 1;
}
