// The in-memory transport: the conformance suite on simulated time and on real threads,
// and its fault injection, checked deterministically on simulated time.
#include "synod/transport/in_memory.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <stdexcept>
#include <tuple>
#include <vector>

#include "in_memory_harness.h"
#include "test_util.h"

namespace synod::transport::testing {

InMemoryNetworkOptions conformance_options() {
  InMemoryNetworkOptions options;
  options.snapshot_chunk_bytes = kConformanceChunkBytes;
  return options;
}

INSTANTIATE_TEST_SUITE_P(
    InMemory, TransportConformance,
    ::testing::Values(HarnessFactory{"simulated",
                                     [] {
                                       return std::make_unique<SimulatedHarness>(
                                           1, conformance_options());
                                     }},
                      HarnessFactory{"threads",
                                     [] {
                                       return std::make_unique<ThreadedHarness>(
                                           2, 1, conformance_options());
                                     }}),
    harness_name);

namespace {

using namespace std::chrono_literals;

constexpr ClusterId kCluster = 7;

// Endpoints on a simulated network, each recording arrivals with their virtual time.
class SimCluster {
 public:
  struct Arrival {
    env::TimePoint at;
    NodeId from;
    std::uint64_t seq;
    friend bool operator==(const Arrival&, const Arrival&) = default;
  };

  explicit SimCluster(std::uint64_t seed = 1, InMemoryNetworkOptions options = {})
      : harness_(seed, options) {}

  InMemoryTransport& start(NodeId id) {
    Node& node = nodes_[id];
    node.transport = std::make_unique<InMemoryTransport>(network(), kCluster, id);
    node.transport->set_receiver([this, &node](Batch&& batch) {
      node.arrivals.push_back({world().now(), batch.from, seq_of(batch)});
    });
    node.transport->set_unreachable_handler(node.inbox.unreachable_handler());
    node.transport->start();
    return *node.transport;
  }
  void send(NodeId from, NodeId to, std::uint64_t seq) {
    at(from).send(numbered_batch(kCluster, from, to, seq));
  }
  InMemoryTransport& at(NodeId id) { return *nodes_.at(id).transport; }
  const std::vector<Arrival>& arrivals(NodeId id) { return nodes_.at(id).arrivals; }
  std::vector<std::uint64_t> seqs(NodeId id) {
    std::vector<std::uint64_t> out;
    for (const auto& a : arrivals(id)) out.push_back(a.seq);
    return out;
  }
  const Inbox& inbox(NodeId id) { return nodes_.at(id).inbox; }
  // Destroys the endpoint, removing the node from the network.
  void remove(NodeId id) { nodes_.at(id).transport.reset(); }
  void run() { world().run_until_idle(1'000'000); }

  env::SimulatedWorld& world() { return harness_.world(); }
  InMemoryNetwork& network() { return harness_.network(); }

 private:
  struct Node {
    std::vector<Arrival> arrivals;
    Inbox inbox;
    std::unique_ptr<InMemoryTransport> transport;
  };
  SimulatedHarness harness_;
  std::map<NodeId, Node> nodes_;
};

std::vector<std::uint64_t> iota(std::uint64_t n) {
  std::vector<std::uint64_t> out(n);
  for (std::uint64_t i = 0; i < n; ++i) out[i] = i;
  return out;
}

// Every arrival at every node of a 3-node network with every fault but cuts enabled.
std::vector<std::tuple<NodeId, SimCluster::Arrival>> delivery_trace(std::uint64_t seed) {
  SimCluster c(seed);
  c.network().set_default_faults({.drop = 0.2, .duplicate = 0.2, .delay = 1ms, .jitter = 3ms});
  for (NodeId id = 1; id <= 3; ++id) c.start(id);
  for (std::uint64_t round = 0; round < 50; ++round) {
    c.world().after(round * 500us, [&c, round] {
      for (NodeId from = 1; from <= 3; ++from) {
        for (NodeId to = 1; to <= 3; ++to) {
          if (from != to) c.send(from, to, round);
        }
      }
    });
  }
  c.run();
  std::vector<std::tuple<NodeId, SimCluster::Arrival>> trace;
  for (NodeId id = 1; id <= 3; ++id) {
    for (const auto& a : c.arrivals(id)) trace.emplace_back(id, a);
  }
  return trace;
}

TEST(InMemoryFaults, SameSeedGivesTheSameDeliveryTrace) {
  const auto first = delivery_trace(42);
  EXPECT_FALSE(first.empty());
  EXPECT_EQ(first, delivery_trace(42));
  EXPECT_NE(first, delivery_trace(43));
}

TEST(InMemoryFaults, DropProbabilityOneLosesEveryBatchSilently) {
  SimCluster c;
  c.start(1);
  c.start(2);
  c.network().set_link(1, 2, {.drop = 1});
  for (std::uint64_t i = 0; i < 50; ++i) c.send(1, 2, i);
  c.send(2, 1, 0);  // the link is directed: the way back still works
  c.run();
  EXPECT_TRUE(c.arrivals(2).empty());
  EXPECT_EQ(c.arrivals(1).size(), 1u);
  const auto stats = c.at(1).stats();
  EXPECT_EQ(stats.dropped_fault, 50u);
  EXPECT_EQ(stats.batches_sent, 0u);
  // Simulated loss is silent, as on a real network.
  EXPECT_EQ(c.inbox(1).lost_count(), 0u);
}

TEST(InMemoryFaults, DuplicateProbabilityOneDeliversEveryBatchTwice) {
  SimCluster c;
  c.start(1);
  c.start(2);
  c.network().set_link(1, 2, {.duplicate = 1});
  for (std::uint64_t i = 0; i < 20; ++i) c.send(1, 2, i);
  c.run();
  std::map<std::uint64_t, int> copies;
  for (auto seq : c.seqs(2)) ++copies[seq];
  ASSERT_EQ(copies.size(), 20u);
  for (const auto& [seq, n] : copies) EXPECT_EQ(n, 2) << seq;
  EXPECT_EQ(c.at(1).stats().batches_duplicated, 20u);
  EXPECT_EQ(c.at(2).stats().batches_received, 40u);
}

TEST(InMemoryFaults, FixedDelayKeepsOrderAndJitterReorders) {
  SimCluster c(5);
  for (NodeId id = 1; id <= 3; ++id) c.start(id);
  c.network().set_link(1, 2, {.delay = 5ms});
  c.network().set_link(1, 3, {.delay = 1ms, .jitter = 10ms});
  for (std::uint64_t i = 0; i < 50; ++i) {
    c.send(1, 2, i);
    c.send(1, 3, i);
  }
  c.run();

  EXPECT_EQ(c.seqs(2), iota(50));
  for (const auto& a : c.arrivals(2)) EXPECT_EQ(a.at, 5ms);

  auto seqs = c.seqs(3);
  EXPECT_NE(seqs, iota(50));
  std::sort(seqs.begin(), seqs.end());
  EXPECT_EQ(seqs, iota(50));
  for (const auto& a : c.arrivals(3)) {
    EXPECT_GE(a.at, 1ms);
    EXPECT_LE(a.at, 11ms);
  }
}

TEST(InMemoryFaults, DelayedBatchesStayBehindEarlierOnesWhenTheDelayShrinks) {
  SimCluster c;
  c.start(1);
  c.start(2);
  c.network().set_link(1, 2, {.delay = 10ms});
  c.send(1, 2, 0);
  c.network().set_link(1, 2, {});
  c.send(1, 2, 1);
  c.run();
  EXPECT_EQ(c.seqs(2), iota(2));
}

TEST(InMemoryFaults, PartitionIsolateAndHeal) {
  SimCluster c;
  for (NodeId id = 1; id <= 3; ++id) c.start(id);
  c.network().partition({{1}, {2, 3}});
  c.send(1, 2, 0);
  c.send(2, 1, 0);
  c.send(2, 3, 0);
  c.run();
  EXPECT_TRUE(c.arrivals(1).empty());
  EXPECT_TRUE(c.arrivals(2).empty());
  EXPECT_EQ(c.arrivals(3).size(), 1u);
  EXPECT_EQ(c.at(1).stats().dropped_link_cut, 1u);
  // A cut looks like an unreachable peer, as a broken connection would.
  ASSERT_EQ(c.inbox(1).lost_count(), 1u);
  EXPECT_EQ(c.inbox(1).lost()[0].peer, 2u);

  c.network().heal();
  c.network().isolate(3);
  c.network().set_link(2, 1, {.cut = true});
  c.send(1, 2, 1);
  c.send(2, 1, 1);
  c.send(2, 3, 1);
  c.send(3, 1, 1);
  c.run();
  EXPECT_EQ(c.seqs(2), std::vector<std::uint64_t>{1});
  EXPECT_TRUE(c.arrivals(1).empty());
  EXPECT_EQ(c.arrivals(3).size(), 1u);

  c.network().heal();
  EXPECT_EQ(c.network().link(2, 1), LinkFaults{});
  c.send(2, 1, 2);
  c.send(2, 3, 2);
  c.send(3, 1, 2);
  c.run();
  EXPECT_EQ(c.arrivals(1).size(), 2u);
  EXPECT_EQ(c.arrivals(3).size(), 2u);
}

TEST(InMemoryFaults, QueueBoundLimitsUndeliveredBatchesPerLink) {
  InMemoryNetworkOptions options;
  options.max_queued_batches = 4;
  SimCluster c(1, options);
  for (NodeId id = 1; id <= 3; ++id) c.start(id);
  c.network().set_link(1, 2, {.delay = 10ms});
  for (std::uint64_t i = 0; i < 10; ++i) c.send(1, 2, i);
  // Another link has a bound of its own.
  for (std::uint64_t i = 0; i < 4; ++i) c.send(1, 3, i);
  auto stats = c.at(1).stats();
  EXPECT_EQ(stats.batches_sent, 8u);
  EXPECT_EQ(stats.dropped_queue_full, 6u);
  c.run();
  EXPECT_EQ(c.seqs(2), iota(4));
  EXPECT_EQ(c.inbox(1).lost_count(), 6u);

  // Delivered batches free their slots.
  c.send(1, 2, 10);
  c.run();
  EXPECT_EQ(c.arrivals(2).size(), 5u);
}

TEST(InMemoryFaults, BatchInFlightToAStoppedOrRemovedEndpointIsDroppedAndReported) {
  SimCluster c;
  for (NodeId id = 1; id <= 3; ++id) c.start(id);
  c.network().set_default_faults({.delay = 5ms});
  c.send(1, 2, 0);
  c.send(1, 3, 0);
  c.world().run_for(1ms);
  c.at(2).stop();
  c.remove(3);
  c.run();
  const auto stats = c.at(1).stats();
  EXPECT_EQ(stats.batches_sent, 2u);
  EXPECT_EQ(stats.dropped_peer_down, 2u);
  ASSERT_EQ(c.inbox(1).lost_count(), 2u);
  EXPECT_EQ(c.inbox(1).lost()[0].envelopes.size(), 1u);

  // A removed node's id is unknown from then on.
  c.send(1, 3, 1);
  EXPECT_EQ(c.at(1).stats().dropped_peer_unknown, 1u);
}

TEST(InMemoryFaults, HandlerMayStopItsOwnEndpoint) {
  SimCluster c;
  c.start(1);
  auto& receiver = c.start(2);
  int calls = 0;
  receiver.set_receiver([&](Batch&&) {
    ++calls;
    receiver.stop();
  });
  c.send(1, 2, 0);
  c.send(1, 2, 1);
  c.run();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(c.at(1).stats().dropped_peer_down, 1u);
}

TEST(InMemoryFaults, NodeIdsMustBeNonZeroAndUnique) {
  SimulatedHarness h;
  InMemoryTransport one(h.network(), kCluster, 1);
  EXPECT_THROW(InMemoryTransport(h.network(), kCluster, 1), std::invalid_argument);
  EXPECT_THROW(InMemoryTransport(h.network(), kCluster, raft::kNoNode), std::invalid_argument);
}

}  // namespace
}  // namespace synod::transport::testing
