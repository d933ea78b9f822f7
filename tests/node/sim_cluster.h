// Several real NodeHosts in one SimulatedWorld: in-memory network, memory log stores that
// lose unsynced writes on a crash, memory snapshot stores, virtual time. Deterministic for
// a given seed.
//
// Each node's host state is the list of entries applied per partition (SimNode::applied),
// and it snapshots that list: a save writes it out, an install replaces it. A crash loses
// it, as a host's memory would; a restart gets it back from the node's latest snapshot and
// the entries above it.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "synod/env/simulated_world.h"
#include "synod/node/node_host.h"
#include "synod/storage/memory_log_store.h"
#include "synod/storage/snapshot_store.h"
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

// The host state of a SimNode in snapshot form: each entry as index, term, type, payload.
inline std::string encode_applied(const std::vector<CommittedEntry>& entries) {
  std::string out;
  auto put = [&out](std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
  };
  for (const auto& e : entries) {
    put(e.index, 8);
    put(e.term, 8);
    put(e.type, 4);
    put(e.payload.size(), 4);
    out.append(e.payload.view());
  }
  return out;
}

// False when `data` is not what encode_applied() writes.
inline bool decode_applied(PartitionId partition, const std::string& data,
                           std::vector<CommittedEntry>& out) {
  std::size_t at = 0;
  auto get = [&](int bytes, std::uint64_t& v) {
    if (data.size() - at < static_cast<std::size_t>(bytes)) return false;
    v = 0;
    for (int i = 0; i < bytes; ++i) {
      v |= static_cast<std::uint64_t>(static_cast<unsigned char>(data[at + i])) << (8 * i);
    }
    at += bytes;
    return true;
  };
  out.clear();
  while (at < data.size()) {
    std::uint64_t index, term, type, size;
    if (!get(8, index) || !get(8, term) || !get(4, type) || !get(4, size) ||
        data.size() - at < size) {
      return false;
    }
    out.push_back({partition, index, term, static_cast<std::uint32_t>(type),
                   raft::Bytes(data.substr(at, size))});
    at += size;
  }
  return true;
}

struct SimNode {
  std::unique_ptr<storage::MemoryLogStore> store = std::make_unique<storage::MemoryLogStore>();
  std::unique_ptr<storage::SnapshotStore> snapshots = storage::make_memory_snapshot_store();
  std::unique_ptr<transport::InMemoryTransport> transport;
  std::unique_ptr<NodeHost> host;
  std::map<PartitionId, std::vector<CommittedEntry>> applied;
  std::vector<LeaderChange> leader_changes;
  // What the host was asked to do, in order, as "save <partition>@<index>" and
  // "install <partition>@<index>" (cleared with the host's memory by a crash).
  std::vector<std::string> snapshot_log;
  // The host's answer to the next saves and installs: Ok, or the status to fail them with.
  Status save_answer = Status::Ok;
  Status install_answer = Status::Ok;
  // A durable-model host: reports each entry applied (NodeHost::report_applied).
  bool report_applied = false;
  // While set, installs are logged and kept here unanswered (SimCluster::release_installs).
  bool hold_installs = false;
  std::vector<InstallRequest> held_installs;
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
    c.snapshot_store = node.snapshots.get();
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
    node.host->set_apply_handler([&node](const CommittedEntry& e) {
      node.applied[e.partition].push_back(e);
      if (node.report_applied) (void)node.host->report_applied(e.partition, e.index);
    });
    node.host->set_leader_handler(
        [&node](const LeaderChange& c) { node.leader_changes.push_back(c); });
    node.host->set_snapshot_handler({[&node](SaveRequest r) { save(node, std::move(r)); },
                                     [&node](InstallRequest r) { install(node, std::move(r)); }});
    node.host->set_partition_failure_handler([this](const PartitionFailure& failure) {
      halted_.push_back({failure.partition, failure.why});
    });
    node.host->start();
  }

  // Also loses the disk: the node comes back with an empty log and no snapshot.
  void wipe(NodeId id) {
    crash(id);
    SimNode& node = nodes_.at(id);
    node.store = std::make_unique<storage::MemoryLogStore>();
    node.snapshots = storage::make_memory_snapshot_store();
  }

  // Answers the installs the node's host held, in the order they came, and stops holding.
  void release_installs(NodeId id) {
    SimNode& node = nodes_.at(id);
    node.hold_installs = false;
    for (auto& r : std::exchange(node.held_installs, {})) finish_install(node, std::move(r));
  }

  // Partitions that stopped running (NodeHost::set_partition_failure_handler), with why.
  const std::vector<std::pair<PartitionId, std::string>>& halted() const { return halted_; }

  // Stops the node as a crash would: unsynced writes are lost, the host's memory too.
  void crash(NodeId id) {
    SimNode& node = nodes_.at(id);
    node.host.reset();
    node.transport.reset();
    node.store->crash();
    node.snapshot_log.clear();
    if (!node.report_applied) {
      node.applied.clear();
      return;
    }
    // A durable host's database keeps what it applied through the floor it reported.
    for (auto& [partition, entries] : node.applied) {
      const Index floor = node.store->applied_floor(partition);
      std::erase_if(entries, [floor](const CommittedEntry& e) { return e.index > floor; });
    }
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
  static void save(SimNode& node, SaveRequest r) {
    node.snapshot_log.push_back("save " + std::to_string(r.partition) + "@" +
                                std::to_string(r.index));
    if (node.save_answer != Status::Ok) return r.done(node.save_answer, "the test says no");
    const std::string state = encode_applied(node.applied[r.partition]);
    if (!r.writer->write(state.data(), state.size()))
      return r.done(Status::StorageFailure, r.writer->why());
    r.done(Status::Ok, "");
  }

  static void install(SimNode& node, InstallRequest r) {
    node.snapshot_log.push_back("install " + std::to_string(r.partition) + "@" +
                                std::to_string(r.index));
    if (node.hold_installs) return node.held_installs.push_back(std::move(r));
    finish_install(node, std::move(r));
  }

  static void finish_install(SimNode& node, InstallRequest r) {
    if (node.install_answer != Status::Ok) return r.done(node.install_answer, "the test says no");
    std::string state;
    if (!read_all(*r.reader, state)) return r.done(Status::StorageFailure, r.reader->why());
    if (!decode_applied(r.partition, state, node.applied[r.partition])) {
      return r.done(Status::InvalidArgument, "undecodable state");
    }
    r.done(Status::Ok, "");
  }

  std::vector<std::pair<PartitionId, std::string>> halted_;
  std::vector<NodeId> members_;
  std::uint32_t user_partitions_;
  std::function<void(NodeHostConfig&)> tune_;
  env::SimulatedWorld world_;
  transport::InMemoryNetwork network_;
  std::map<NodeId, SimNode> nodes_;
};

// Proposes on `node` and runs the world until the answer comes (a future would block the
// one thread the simulated world runs on).
inline ReplicationResult put(SimCluster& cluster, NodeId node, PartitionId id,
                             const std::string& value) {
  std::optional<ReplicationResult> result;
  cluster.host(node).replicate(id, 1, raft::Bytes(value),
                               [&](const ReplicationResult& r) { result = r; });
  cluster.run_until([&] { return result.has_value(); });
  return result.value_or(ReplicationResult{Status::Timeout});
}

}  // namespace synod::node::testing
