// NodeHosts on real threads: a worker pool, a timer thread and the steady clock. Waits are
// on conditions with generous bounds; nothing depends on how fast the machine is.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "synod/env/random.h"
#include "synod/env/thread_pool.h"
#include "synod/node/node_host.h"
#include "synod/storage/memory_log_store.h"
#include "synod/transport/in_memory.h"

namespace synod::node {
namespace {

using std::chrono::milliseconds;

class ThreadedCluster {
 public:
  ThreadedCluster() : timers_(clock_, pool_), network_(timers_, pool_, random_) {
    for (NodeId id : {1, 2, 3}) {
      auto& n = nodes_[id];
      n.transport = std::make_unique<transport::InMemoryTransport>(network_, 1, id);
      NodeHostConfig c;
      c.node_id = id;
      c.initial_members = {1, 2, 3};
      c.user_partitions = 4;
      c.tick_interval = milliseconds(10);
      c.request_timeout = milliseconds(30000);
      c.seed = id;
      c.store = &n.store;
      c.transport = n.transport.get();
      c.clock = &clock_;
      c.scheduler = &timers_;
      c.executor = &pool_;
      std::string error;
      n.host = NodeHost::create(c, &error);
      EXPECT_TRUE(n.host) << error;
      n.host->set_apply_handler([this, id](const CommittedEntry&) {
        std::lock_guard lock(mu_);
        ++applied_[id];
        changed_.notify_all();
      });
      n.host->start();
    }
  }

  ~ThreadedCluster() {
    for (auto& [id, n] : nodes_) n.host->stop();
  }

  NodeId wait_for_leader(PartitionId p) {
    const auto deadline = clock_.now() + milliseconds(60000);
    while (clock_.now() < deadline) {
      for (auto& [id, n] : nodes_) {
        if (n.host->is_leader(p)) return id;
      }
      std::unique_lock lock(mu_);
      changed_.wait_for(lock, milliseconds(5));
    }
    return raft::kNoNode;
  }

  void notify() {
    std::lock_guard lock(mu_);
    changed_.notify_all();
  }

  bool wait_until(const std::function<bool()>& done) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(60), done);
  }

  bool wait_applied(std::size_t count) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(60), [&] {
      for (NodeId id : {1, 2, 3}) {
        if (applied_[id] < count) return false;
      }
      return true;
    });
  }

  NodeHost& host(NodeId id) { return *nodes_.at(id).host; }

 private:
  struct Node {
    storage::MemoryLogStore store;
    std::unique_ptr<transport::InMemoryTransport> transport;
    std::unique_ptr<NodeHost> host;
  };
  env::SteadyClock clock_;
  env::ThreadPool pool_{2};
  env::TimerThread timers_;
  env::Random random_{7};
  transport::InMemoryNetwork network_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::map<NodeId, std::size_t> applied_;
  std::map<NodeId, Node> nodes_;
};

TEST(NodeHostThreads, ConcurrentProposalsFromSeveralThreadsAllCommitEverywhere) {
  ThreadedCluster cluster;
  std::map<PartitionId, NodeId> leaders;
  for (PartitionId p = 1; p <= 4; ++p) {
    EXPECT_NE(cluster.host(1).wait_for_leader(p, milliseconds(60000)), raft::kNoNode);
    leaders[p] = cluster.wait_for_leader(p);
    ASSERT_NE(leaders[p], raft::kNoNode) << "partition " << p;
  }
  constexpr int kPerThread = 250;
  std::atomic<int> ok{0};
  std::atomic<int> unexpected{0};
  std::atomic<int> finished{0};
  std::vector<std::thread> clients;
  for (PartitionId p = 1; p <= 4; ++p) {
    clients.emplace_back([&, p] {
      for (int i = 0; i < kPerThread; ++i) {
        cluster.host(leaders[p])
            .replicate(p, 1, raft::Bytes("x" + std::to_string(i)), [&](const ReplicationResult& r) {
              if (r.status == Status::Ok) {
                ++ok;
              } else if (r.status != Status::NotLeader && r.status != Status::Dropped &&
                         r.status != Status::NoLeader) {
                ++unexpected;
              }
              ++finished;
              cluster.notify();
            });
      }
    });
  }
  for (auto& t : clients) t.join();
  // A leader change under load may refuse or drop some proposals; each still gets an
  // answer, and every acknowledged one is applied on every node.
  ASSERT_TRUE(cluster.wait_until([&] { return finished.load() == 4 * kPerThread; }));
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_GT(ok.load(), 0);
  ASSERT_TRUE(cluster.wait_applied(static_cast<std::size_t>(ok.load())));
}

// Partitions come and go on every node while client threads propose and read against
// them, the timer ticks and the network delivers: every request is answered once, and
// what remains is consistent. Run under TSan by scripts/test.sh's sanitizer pass.
TEST(NodeHostThreads, PartitionsAddedAndRemovedUnderLoadAnswerEveryRequestOnce) {
  ThreadedCluster cluster;
  for (PartitionId p = 1; p <= 4; ++p) ASSERT_NE(cluster.wait_for_leader(p), raft::kNoNode);
  constexpr int kPerThread = 300;
  std::atomic<int> answered{0};
  std::atomic<int> unexpected{0};
  std::atomic<bool> reshaping{true};
  // The partitions that come and go: added under fresh ids each time (a node must not add
  // back a partition it removed while the others run it), removed the round after.
  std::atomic<PartitionId> dynamic{5};
  std::vector<std::thread> clients;
  for (NodeId node : {1, 2, 3}) {
    clients.emplace_back([&, node] {
      for (int i = 0; i < kPerThread; ++i) {
        const PartitionId p = i % 3 == 2 ? dynamic.load() + static_cast<PartitionId>(i % 2)
                                         : 1 + static_cast<PartitionId>(i % 4);
        auto count = [&](Status s) {
          if (s == Status::InvalidArgument || s == Status::PayloadTooLarge) ++unexpected;
          ++answered;
          cluster.notify();
        };
        if (i % 3 == 0) {
          cluster.host(node).read_index(p, [count](const ReadResult& r) { count(r.status); });
        } else {
          cluster.host(node).replicate(p, 1, raft::Bytes("x"),
                                       [count](const ReplicationResult& r) { count(r.status); });
        }
      }
    });
  }
  std::thread reshaper([&] {
    for (int round = 0; reshaping.load(); ++round) {
      const PartitionId base = dynamic.load();
      for (NodeId node : {1, 2, 3}) {
        for (PartitionId p : {base, base + 1}) {
          if (round % 2 == 0) {
            EXPECT_EQ(cluster.host(node).add_partition(p, {1, 2, 3}), Status::Ok);
          } else {
            EXPECT_EQ(cluster.host(node).remove_partition(p).get(), Status::Ok);
          }
        }
      }
      if (round % 2 == 1) dynamic = base + 2;
    }
  });
  for (auto& t : clients) t.join();
  reshaping = false;
  reshaper.join();
  ASSERT_TRUE(cluster.wait_until([&] { return answered.load() == 3 * kPerThread; }));
  EXPECT_EQ(unexpected.load(), 0);
  // The partitions that stayed still commit.
  for (PartitionId p = 1; p <= 4; ++p) {
    const NodeId leader = cluster.wait_for_leader(p);
    ASSERT_NE(leader, raft::kNoNode);
    const auto r = cluster.host(leader).replicate(p, 1, raft::Bytes("after")).get();
    EXPECT_TRUE(r.status == Status::Ok || r.status == Status::NotLeader) << to_string(r.status);
  }
}

}  // namespace
}  // namespace synod::node
