// Several real NodeHosts in one SimulatedWorld: in-memory network, memory log stores that
// lose unsynced writes on a crash, virtual time. Deterministic for a given seed.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "synod/env/simulated_world.h"
#include "synod/node/node_host.h"
#include "synod/storage/memory_log_store.h"
#include "synod/transport/in_memory.h"

namespace synod::node::testing {

using std::chrono::milliseconds;

// A configuration whose clock, timers and workers are `world`'s, over `store` and
// `transport`: a single node of `members` (this one among them) in the simulated world.
inline NodeHostConfig simulated_config(env::SimulatedWorld& world, storage::LogStore* store,
                                       transport::Transport* transport, NodeId id = 1,
                                       std::vector<NodeId> members = {1}) {
  NodeHostConfig c;
  c.node_id = id;
  c.initial_members = std::move(members);
  c.seed = id;
  c.store = store;
  c.transport = transport;
  c.clock = &world;
  c.scheduler = &world;
  c.executor = &world;
  return c;
}

struct SimNode {
  std::unique_ptr<storage::MemoryLogStore> store = std::make_unique<storage::MemoryLogStore>();
  std::unique_ptr<transport::InMemoryTransport> transport;
  std::unique_ptr<NodeHost> host;
  std::map<PartitionId, std::vector<CommittedEntry>> applied;
  std::vector<LeaderChange> leader_changes;
};

class SimCluster {
 public:
  SimCluster(std::vector<NodeId> members, std::uint32_t user_partitions, std::uint64_t seed = 1,
             std::function<void(NodeHostConfig&)> tune = {})
      : members_(std::move(members)),
        user_partitions_(user_partitions),
        tune_(std::move(tune)),
        world_(seed),
        network_(world_, world_, world_.random()) {
    for (NodeId id : members_) start(id);
  }

  ~SimCluster() {
    for (auto& [id, node] : nodes_) {
      node.host.reset();
      node.transport.reset();
    }
  }

  NodeHostConfig config_for(NodeId id, SimNode& node) {
    NodeHostConfig c =
        simulated_config(world_, node.store.get(), node.transport.get(), id, members_);
    c.user_partitions = user_partitions_;
    c.tick_interval = milliseconds(10);
    c.request_timeout = milliseconds(3000);
    if (tune_) tune_(c);
    return c;
  }

  void start(NodeId id) {
    SimNode& node = nodes_[id];
    node.transport = std::make_unique<transport::InMemoryTransport>(network_, 1, id);
    std::string error;
    node.host = NodeHost::create(config_for(id, node), &error);
    ASSERT_TRUE(node.host) << error;
    node.host->set_apply_handler(
        [&node](const CommittedEntry& e) { node.applied[e.partition].push_back(e); });
    node.host->set_leader_handler(
        [&node](const LeaderChange& c) { node.leader_changes.push_back(c); });
    node.host->start();
  }

  // Stops the node as a crash would: unsynced writes are lost, the host's memory too.
  void crash(NodeId id) {
    SimNode& node = nodes_.at(id);
    node.host.reset();
    node.transport.reset();
    node.store->crash();
    node.applied.clear();
  }

  // Runs virtual time in 10 ms steps until `done` holds; false after `limit`.
  bool run_until(const std::function<bool()>& done, milliseconds limit = milliseconds(20000)) {
    for (milliseconds t{0}; t <= limit; t += milliseconds(10)) {
      if (done()) return true;
      world_.run_for(milliseconds(10));
    }
    return done();
  }
  void run_for(milliseconds duration) { world_.run_for(duration); }

  // The leader every up node agrees on, or kNoNode.
  NodeId agreed_leader(PartitionId partition) const {
    NodeId leader = raft::kNoNode;
    for (const auto& [id, node] : nodes_) {
      if (!node.host) continue;
      const NodeId seen = node.host->leader_of(partition);
      if (seen == raft::kNoNode || (leader != raft::kNoNode && seen != leader)) {
        return raft::kNoNode;
      }
      leader = seen;
    }
    if (leader == raft::kNoNode || !nodes_.at(leader).host) return raft::kNoNode;
    return nodes_.at(leader).host->is_leader(partition) ? leader : raft::kNoNode;
  }

  bool all_partitions_led() const {
    for (PartitionId p = 0; p <= user_partitions_; ++p) {
      if (agreed_leader(p) == raft::kNoNode) return false;
    }
    return true;
  }

  SimNode& node(NodeId id) { return nodes_.at(id); }
  NodeHost& host(NodeId id) { return *nodes_.at(id).host; }
  transport::InMemoryNetwork& network() { return network_; }
  env::SimulatedWorld& world() { return world_; }
  const std::vector<NodeId>& members() const { return members_; }

 private:
  std::vector<NodeId> members_;
  std::uint32_t user_partitions_;
  std::function<void(NodeHostConfig&)> tune_;
  env::SimulatedWorld world_;
  transport::InMemoryNetwork network_;
  std::map<NodeId, SimNode> nodes_;
};

}  // namespace synod::node::testing
