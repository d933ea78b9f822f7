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

#include "synod/env/random.h"
#include "synod/env/thread_pool.h"
#include "synod/node/node_host.h"
#include "synod/storage/memory_log_store.h"
#include "synod/transport/in_memory.h"

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
  Demo() : timers_(clock_, pool_), network_(timers_, pool_, random_) {
    for (NodeId id : kMembers) start(id);
  }

  ~Demo() {
    for (auto& [id, n] : nodes_) {
      if (n.host) n.host->stop();
    }
  }

  void start(NodeId id) {
    Node& n = nodes_[id];
    n.transport = std::make_unique<transport::InMemoryTransport>(network_, 1, id);
    node::NodeHostConfig c;
    c.node_id = id;
    c.initial_members = kMembers;
    c.user_partitions = kUserPartitions;
    c.tick_interval = milliseconds(10);
    c.seed = id;
    c.store = &n.store;
    c.transport = n.transport.get();
    c.clock = &clock_;
    c.scheduler = &timers_;
    c.executor = &pool_;
    std::string error;
    n.host = NodeHost::create(c, &error);
    if (!n.host) {
      std::fprintf(stderr, "node %llu: %s\n", static_cast<unsigned long long>(id), error.c_str());
      std::exit(1);
    }
    n.host->set_apply_handler([this, id](const node::CommittedEntry& e) {
      std::lock_guard lock(mu_);
      nodes_[id].state[e.partition].emplace_back(e.payload.view());
      changed_.notify_all();
    });
    n.host->start();
  }

  // Stops a node as if its process died; its store keeps what it wrote.
  void stop(NodeId id) {
    Node& n = nodes_.at(id);
    n.host->stop();
    n.host.reset();
    n.transport.reset();
    std::lock_guard lock(mu_);
    n.state.clear();
  }

  NodeId wait_for_leader(PartitionId p, NodeId not_this = raft::kNoNode) {
    NodeId found = raft::kNoNode;
    wait([&] {
      for (auto& [id, n] : nodes_) {
        if (id != not_this && n.host && n.host->is_leader(p)) found = id;
      }
      return found != raft::kNoNode;
    });
    return found;
  }

  node::ReplicationResult put(PartitionId p, const std::string& value) {
    for (int attempt = 0; attempt < 50; ++attempt) {
      const NodeId leader = wait_for_leader(p);
      auto result = nodes_.at(leader).host->replicate(p, kPutType, raft::Bytes(value)).get();
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
    storage::MemoryLogStore store;
    std::unique_ptr<transport::InMemoryTransport> transport;
    std::unique_ptr<NodeHost> host;
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

  env::SteadyClock clock_;
  env::ThreadPool pool_{2};
  env::TimerThread timers_;
  env::Random random_{1};
  transport::InMemoryNetwork network_;
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
