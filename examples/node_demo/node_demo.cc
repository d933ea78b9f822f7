// Three Synod nodes in one process, on real threads and real time, joined by the
// in-memory transport: each node hosts the system partition and four user partitions.
// The demo writes keys, stops the leader of a partition, shows a new leader taking over
// with every acknowledged write intact, then brings the node back and lets it catch up.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "synod/node/node_host.h"
#include "synod/node/node_runtime.h"
#include "synod/storage/memory_log_store.h"

namespace {

using namespace synod;
using node::NodeHost;
using node::NodeId;
using node::PartitionId;
using std::chrono::milliseconds;

constexpr std::uint32_t kUserPartitions = 4;
constexpr std::uint32_t kPutType = 1;
const std::vector<NodeId> kMembers = {1, 2, 3};

class Demo {
 public:
  Demo() {
    for (NodeId id : kMembers) start(id);
  }

  // Every node stops before the state its apply handler writes to goes.
  ~Demo() {
    for (auto& [id, n] : nodes_) n.runtime.reset();
  }

  void start(NodeId id) {
    Node& n = nodes_[id];
    node::NodeRuntimeOptions o;
    o.host.node_id = id;
    o.host.initial_members = kMembers;
    o.host.user_partitions = kUserPartitions;
    o.host.tick_interval = milliseconds(10);
    o.host.seed = id;
    // The node's store outlives its runtime, as a disk outlives a process.
    o.store.existing = n.store;
    o.transport.network = network_;
    o.threads = threads_;
    node::RuntimeError error;
    n.runtime = node::NodeRuntime::create(o, &error);
    if (!n.runtime) {
      std::fprintf(stderr, "node %llu: %s\n", static_cast<unsigned long long>(id), error.message.c_str());
      std::exit(1);
    }
    n.runtime->host().set_apply_handler([this, id](const node::CommittedEntry& e) {
      std::lock_guard lock(mu_);
      nodes_[id].state[e.partition].emplace_back(e.payload.view());
      changed_.notify_all();
    });
    n.runtime->start();
  }

  // Stops a node as if its process died; its store keeps what it wrote.
  void stop(NodeId id) {
    Node& n = nodes_.at(id);
    n.runtime.reset();
    std::lock_guard lock(mu_);
    n.state.clear();
  }

  NodeHost* host(NodeId id) {
    auto& runtime = nodes_.at(id).runtime;
    return runtime ? &runtime->host() : nullptr;
  }

  NodeId wait_for_leader(PartitionId p, NodeId not_this = raft::kNoNode) {
    NodeId found = raft::kNoNode;
    wait([&] {
      for (auto& [id, n] : nodes_) {
        if (id != not_this && n.runtime && n.runtime->host().is_leader(p)) found = id;
      }
      return found != raft::kNoNode;
    });
    return found;
  }

  node::ReplicationResult put(PartitionId p, const std::string& value) {
    for (int attempt = 0; attempt < 50; ++attempt) {
      const NodeId leader = wait_for_leader(p);
      auto result = host(leader)->replicate(p, kPutType, raft::Bytes(value)).get();
      if (result.status == node::Status::Ok) return result;
    }
    return {node::Status::Timeout, 0, 0, raft::kNoNode};
  }

  bool wait_applied(NodeId id, PartitionId p, std::size_t count) {
    return wait([&] { return nodes_[id].state[p].size() >= count; });
  }

  std::vector<std::string> state(NodeId id, PartitionId p) {
    std::lock_guard lock(mu_);
    return nodes_[id].state[p];
  }

 private:
  struct Node {
    std::shared_ptr<storage::MemoryLogStore> store = std::make_shared<storage::MemoryLogStore>();
    std::unique_ptr<node::NodeRuntime> runtime;
    std::map<PartitionId, std::vector<std::string>> state;
  };

  // Waits for a condition, re-checking on every applied entry and every 10 ms; 30 s bound.
  bool wait(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::unique_lock lock(mu_);
    while (!done()) {
      if (changed_.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() +
                                                           milliseconds(10))) ==
              std::cv_status::timeout &&
          std::chrono::steady_clock::now() >= deadline) {
        return done();
      }
    }
    return true;
  }

  // Every node and the network on one pool of two workers.
  std::shared_ptr<node::RuntimeThreads> threads_ = std::make_shared<node::RuntimeThreads>(2);
  std::shared_ptr<node::InProcessNetwork> network_ = std::make_shared<node::InProcessNetwork>(threads_);
  std::mutex mu_;
  std::condition_variable changed_;
  std::map<NodeId, Node> nodes_;
};

void print_state(Demo& demo, PartitionId p) {
  for (NodeId id : kMembers) {
    std::string line;
    for (const auto& v : demo.state(id, p)) line += (line.empty() ? "" : ", ") + v;
    std::printf("    node %llu: [%s]\n", static_cast<unsigned long long>(id), line.c_str());
  }
}

}  // namespace

int main() {
  std::printf("Synod demo: 3 nodes, %u user partitions each, in one process.\n\n",
              kUserPartitions);
  Demo demo;

  std::printf("1. Every partition elects a leader.\n");
  for (PartitionId p = 0; p <= kUserPartitions; ++p) {
    std::printf("    partition %llu: leader node %llu\n", static_cast<unsigned long long>(p),
                static_cast<unsigned long long>(demo.wait_for_leader(p)));
  }

  const PartitionId p = 2;
  std::printf("\n2. Writes to partition %llu commit on a majority and apply everywhere.\n",
              static_cast<unsigned long long>(p));
  for (const char* v : {"x=1", "y=2", "x=3"}) {
    auto r = demo.put(p, v);
    std::printf("    put %-4s -> %s at index %llu, term %llu\n", v, node::to_string(r.status),
                static_cast<unsigned long long>(r.index), static_cast<unsigned long long>(r.term));
  }
  for (NodeId id : kMembers) demo.wait_applied(id, p, 3);
  print_state(demo, p);

  const NodeId old_leader = demo.wait_for_leader(p);
  std::printf("\n3. Node %llu, the leader of partition %llu, stops.\n",
              static_cast<unsigned long long>(old_leader), static_cast<unsigned long long>(p));
  demo.stop(old_leader);
  const NodeId new_leader = demo.wait_for_leader(p, old_leader);
  std::printf("    node %llu takes over\n", static_cast<unsigned long long>(new_leader));
  for (const char* v : {"z=4", "y=5"}) {
    auto r = demo.put(p, v);
    std::printf("    put %-4s -> %s at index %llu, term %llu\n", v, node::to_string(r.status),
                static_cast<unsigned long long>(r.index), static_cast<unsigned long long>(r.term));
  }

  std::printf("\n4. Node %llu restarts from its store and catches up.\n",
              static_cast<unsigned long long>(old_leader));
  demo.start(old_leader);
  bool caught_up = true;
  for (NodeId id : kMembers) caught_up &= demo.wait_applied(id, p, 5);
  print_state(demo, p);

  bool same = caught_up;
  for (NodeId id : kMembers) same &= demo.state(id, p) == demo.state(kMembers.front(), p);
  std::printf("\n%s\n", same ? "Every node holds the same five writes; none was lost."
                             : "NODES DISAGREE");
  return same ? 0 : 1;
}
